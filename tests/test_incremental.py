"""Scheduled runs: incremental reads, rewritten captures, --reprocess, the lock and the run history.

Runs that must overlap or be killed are real `newsbeam` processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.cli import main
from pipeline.cli.options import EXIT_LOCKED, EXIT_NOTHING_READ, EXIT_NOTHING_TO_DO
from pipeline.config import CONFIG_DIR
from pipeline.output.lock import LOCK_NAME, OutputLock

pytestmark = pytest.mark.slow  # every test here starts processes or runs several pipelines

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = "read_parquet('{out}/date=*/section=*/*.parquet', hive_partitioning=true)"


def run(captures: Path, output: Path, *extra: str) -> int:
    return main(["run", "--input", str(captures), "--output", str(output), "--quiet", *extra])


def spawn(captures: Path, output: Path, *extra: str, log_level: str = "WARNING") -> subprocess.Popen:
    command = [sys.executable, "-m", "pipeline.cli", "--log-level", log_level, "run", "--input", str(captures),
               "--output", str(output), "--quiet", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def logged(process: subprocess.Popen, text: str) -> str:
    """Read the process's log lines until one holds ``text``; return it ("" when the process ended first)."""
    return next((line for line in iter(process.stderr.readline, "") if text in line), "")


def table(output: Path) -> list[tuple]:
    return duckdb.sql(f"select source_uri, article_id, body from {ARTICLES.format(out=output)} "
                      "order by source_uri").fetchall()


def runs(output: Path) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")),
                  key=lambda run: run["started_at"])


@pytest.fixture
def captures(tmp_path) -> Path:
    folder = tmp_path / "captures"
    folder.mkdir()
    shutil.copy(FIXTURES / "seed_shaped.txt", folder / "seed_shaped.txt")
    shutil.copy(FIXTURES / "chip-plant.html", folder / "chip-plant.html")
    shutil.copy(FIXTURES / "sequia.html", folder / "sequia.html")
    return folder


def test_rewritten_capture_replaces_its_row(captures, tmp_path):
    output = tmp_path / "out"
    assert run(captures, output, "--entities", "off") == 0
    seed = captures / "seed_shaped.txt"
    seed.write_text(seed.read_text().replace("three border crossings", "four border crossings"))
    os.utime(seed, (time.time() + 5, time.time() + 5))
    assert run(captures, output, "--entities", "off") == 0
    rows = table(output)
    assert len(rows) == 3
    [(_, _, body)] = [row for row in rows if row[0].endswith("seed_shaped.txt")]
    assert "four border crossings" in body and "three border crossings" not in body
    last = runs(output)[-1]
    assert (last["files_read"], last["files_unchanged"], last["replaced"]) == (1, 2, 1)


def dead_letters(output: Path) -> list[tuple[str, str]]:
    """``(file name, reason)`` of every committed dead-letter row."""
    return sorted((Path(uri).name, reason) for path in output.glob("_rejected/*.parquet")
                  for uri, reason in duckdb.sql(f"select source_uri, reason from '{path}'").fetchall())


def test_a_rejected_capture_rewritten_into_an_article_loses_its_dead_letter(captures, tmp_path):
    """Every capture ends as exactly one of article, duplicate or rejection, also across runs."""
    output = tmp_path / "out"
    later = captures / "later.txt"
    later.write_bytes(b"")
    assert run(captures, output, "--entities", "off") == 0
    assert dead_letters(output) == [("later.txt", "empty_file")]
    later.write_text((captures / "seed_shaped.txt").read_text().replace("three border crossings", "four crossings"))
    os.utime(later, (time.time() + 5, time.time() + 5))
    assert run(captures, output, "--entities", "off") == 0
    assert dead_letters(output) == []
    assert [row[0].rsplit("/", 1)[-1] for row in table(output)].count("later.txt") == 1
    last = runs(output)[-1]
    assert (last["files_read"], last["articles_written"], last["rejected"]) == (1, 1, 0)
    assert last["rejections_withdrawn"] == 1


def test_a_rejected_capture_that_fails_for_another_reason_keeps_only_the_new_reason(captures, tmp_path):
    output = tmp_path / "out"
    later = captures / "later.txt"
    later.write_bytes(b"")
    assert run(captures, output, "--entities", "off") == 0
    later.write_bytes(b"\x00\x01\x02 not text \x00" * 20)
    os.utime(later, (time.time() + 5, time.time() + 5))
    assert run(captures, output, "--entities", "off") == EXIT_NOTHING_READ  # the one file read was rejected
    assert dead_letters(output) == [("later.txt", "binary_content")]
    assert runs(output)[-1]["rejections_withdrawn"] == 1


def test_a_backfill_window_leaves_the_dead_letters_of_the_captures_it_skips(tmp_path):
    captures, output = tmp_path / "captures", tmp_path / "out"
    captures.mkdir()
    body = (FIXTURES / "seed_shaped.txt").read_text()
    records = [{"url": "https://example.com/kept", "fetched_at": "2024-03-01T10:00:00Z", "text": body},
               {"url": "https://example.com/chrome", "fetched_at": "2023-03-01T10:00:00Z",
                "text": "Share this article\n\nBack to top"}]
    (captures / "feed.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    assert run(captures, output, "--entities", "off") == 0
    before = dead_letters(output)
    assert [name for name, _ in before] == ["feed.jsonl#line=2"]
    assert run(captures, output, "--entities", "off", "--reprocess", "--since", "2024-01-01") == 0
    assert dead_letters(output) == before
    last = runs(output)[-1]
    assert (last["skipped_outside_window"], last["replaced"], last["rejections_withdrawn"]) == (1, 1, 0)


def test_touched_but_unchanged_capture_is_not_read_again(captures, tmp_path):
    output = tmp_path / "out"
    assert run(captures, output, "--entities", "off") == 0
    os.utime(captures / "sequia.html", (time.time() + 60, time.time() + 60))
    assert run(captures, output, "--entities", "off") == EXIT_NOTHING_TO_DO
    assert runs(output)[-1]["files_unchanged"] == 3


def test_reprocess_after_a_rule_change_never_shows_both_or_neither(captures, tmp_path):
    output = tmp_path / "out"
    assert run(captures, output, "--entities", "off") == 0
    before = {uri: body for uri, _, body in table(output)}
    config = _config_dropping_line(tmp_path, "Questions of smuggling")
    seen: list[dict[str, int]] = []
    stop = threading.Event()

    def watch() -> None:
        query = f"select source_uri, count(*) from {ARTICLES.format(out=output)} group by 1"
        while not stop.is_set():
            seen.append(dict(duckdb.connect().sql(query).fetchall()))

    reader = threading.Thread(target=watch)
    reader.start()
    process = spawn(captures, output, "--reprocess", "--entities", "off", "--config", str(config))
    _, errors = process.communicate(timeout=300)
    stop.set()
    reader.join()
    assert process.returncode == 0, errors
    after = {uri: body for uri, _, body in table(output)}
    assert after.keys() == before.keys()
    seed_uri = next(uri for uri in after if uri.endswith("seed_shaped.txt"))
    assert "Questions of smuggling" in before[seed_uri] and "Questions of smuggling" not in after[seed_uri]
    assert len(seen) > 20
    assert all(snapshot == dict.fromkeys(before, 1) for snapshot in seen)
    assert runs(output)[-1]["replaced"] == 3


def _config_dropping_line(tmp_path: Path, line: str) -> Path:
    """A copy of the default run config whose furniture rules also drop ``line``."""
    folder = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, folder)
    rules = yaml.safe_load((folder / "boilerplate.yaml").read_text())
    rules["furniture"].append({"name": "site_specific", "pattern": line})
    (folder / "boilerplate.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True))
    return folder / "local.yaml"


def test_two_runs_started_together_one_wins_the_lock(captures, tmp_path):
    output = tmp_path / "out"
    first, second = spawn(captures, output), spawn(captures, output)
    results = [(p.wait(timeout=300), p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes == [0, EXIT_LOCKED], results
    message = next(err for code, err in results if code == EXIT_LOCKED)
    assert "another run holds the lock" in message and "pid" in message
    assert len(table(output)) == 3


def test_a_killed_run_leaves_a_stale_lock_that_the_next_run_takes_over(captures, tmp_path):
    output = tmp_path / "out"
    process = spawn(captures, output, log_level="INFO")
    assert " files listed" in logged(process, " files listed")  # said while it holds the lock
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (output / LOCK_NAME).exists()
    assert run(captures, output, "--entities", "off") == 0
    assert not (output / LOCK_NAME).exists()
    assert len(table(output)) == 3


def test_wait_takes_the_lock_once_it_is_released(captures, tmp_path):
    output = tmp_path / "out"
    with OutputLock(str(output), "holder"):
        process = spawn(captures, output, "--wait", "--entities", "off", log_level="INFO")
        assert "another run holds the lock: run holder" in logged(process, "waiting: ")
        assert process.poll() is None  # still waiting
    _, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors
    assert len(table(output)) == 3


def test_runs_lists_the_history(captures, tmp_path, capsys):
    output = tmp_path / "out"
    run(captures, output, "--entities", "off")
    run(captures, output, "--entities", "off")
    capsys.readouterr()
    assert main(["runs", "--output", str(output)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and "succeeded" in lines[1] and "nothing to do" in lines[2]
    assert main(["runs", "--output", str(output), "--json"]) == 0
    history = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["status"], r["exit_code"]) for r in history] == [("succeeded", 0), ("nothing to do", EXIT_NOTHING_TO_DO)]


def test_a_large_input_runs_in_chunks_with_the_same_result(captures, tmp_path):
    """Chunks of one file each: every chunk is its own pipeline, the run's figures add up."""
    folder = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, folder)
    settings = yaml.safe_load((folder / "local.yaml").read_text())
    settings["run"]["files_per_pipeline"] = 1
    (folder / "local.yaml").write_text(yaml.safe_dump(settings))
    chunked, whole = tmp_path / "chunked", tmp_path / "whole"
    assert run(captures, chunked, "--entities", "off", "--config", str(folder / "local.yaml")) == 0
    assert run(captures, whole, "--entities", "off") == 0
    assert [row[1:] for row in table(chunked)] == [row[1:] for row in table(whole)]
    assert len(list(chunked.glob("_ledger/*.parquet"))) == 3
    summary = runs(chunked)[-1]
    assert (summary["files_read"], summary["captures_read"], summary["articles_written"]) == (3, 3, 3)


def test_the_next_run_removes_what_a_killed_run_left_behind(captures, tmp_path):
    output = tmp_path / "out"
    assert run(captures, output, "--entities", "off") == 0
    partition = next(output.glob("date=*/section=*"))
    leftovers = [partition / ".part-x.parquet.inprogress", output / ".progress-x" / "1-2.json",
                 partition.parent / ".compact-x" / "part-compacted-x.parquet",
                 output / "_keys" / "article_id" / ".keys-x.parquet.inprogress",
                 output / "_stories" / ".stories-x.parquet.inprogress"]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half")
    assert run(captures, output, "--entities", "off") == EXIT_NOTHING_TO_DO
    assert not any(path.exists() for path in leftovers)
    assert not (output / ".progress-x").exists() and not (partition.parent / ".compact-x").exists()
