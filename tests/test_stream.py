"""The local streaming job and compaction, with real processes, real files and concurrent DuckDB reads."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from pipeline.output.compaction import compact_partition

pytestmark = pytest.mark.slow  # every test here starts processes or runs several pipelines

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = "read_parquet('{out}/date=*/section=*/*.parquet', hive_partitioning=true)"


def stream(watch: Path, output: Path, *extra: str) -> subprocess.Popen:
    """A stream job that ends by itself after five minutes, so a test waiting on it cannot hang."""
    command = [sys.executable, "-m", "pipeline.cli", "stream", "--watch", str(watch), "--output", str(output),
               "--interval", "0.5s", "--entities", "off", "--until", "300s", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def visible(output: Path) -> set[str]:
    """Source files of the rows DuckDB sees now."""
    if not list(output.glob("date=*/section=*/*.parquet")):
        return set()
    rows = duckdb.sql(f"select source_uri from {ARTICLES.format(out=output)}").fetchall()
    return {Path(uri.split("#")[0]).name for (uri,) in rows}


def wait_for_batches(job: subprocess.Popen, condition: Callable[[], bool]) -> None:
    """Read the job's status lines (one on stderr after each committed batch) until ``condition`` holds."""
    for line in iter(job.stderr.readline, ""):
        if line.startswith("batches ") and condition():
            return
    raise AssertionError(f"the stream ended (exit {job.wait()}) before the condition held")


def drop(source: Path, folder: Path, name: str) -> None:
    """The drop convention: write under a .part name, then rename."""
    partial = folder / f"{name}.part"
    shutil.copy(source, partial)
    partial.rename(folder / name)


def write_pages(folder: Path, count: int) -> list[str]:
    page = (FIXTURES / "chip-plant.html").read_text()
    names = []
    for n in range(count):
        name = f"page-{n:03d}.html"
        (folder / name).write_text(page.replace("chipmaker-ohio-plant", f"chipmaker-ohio-plant-{n}")
                                   .replace("3,000 jobs", f"{3000 + n} jobs"))
        names.append(name)
    return names


def test_stream_picks_up_files_as_they_land_and_exits_cleanly_on_sigterm(tmp_path):
    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / ".half-written.html").write_text("<html><body><p>not yet")
    job = stream(inbox, output)
    try:
        drop(FIXTURES / "seed_shaped.txt", inbox, "first.txt")
        wait_for_batches(job, lambda: visible(output) == {"first.txt"})
        drop(FIXTURES / "chip-plant.html", inbox, "second.html")
        wait_for_batches(job, lambda: visible(output) == {"first.txt", "second.html"})
    finally:
        job.send_signal(signal.SIGTERM)
        _, errors = job.communicate(timeout=120)
    assert job.returncode == 0, errors
    [summary] = [json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")]
    assert summary["status"] == "stopped" and summary["articles_written"] == 2
    assert visible(output) == {"first.txt", "second.html"}  # the dot-file was never read


def test_a_stream_killed_mid_batch_and_restarted_commits_everything_exactly_once(tmp_path):
    inbox, output, reference = tmp_path / "inbox", tmp_path / "out", tmp_path / "reference"
    inbox.mkdir()
    names = write_pages(inbox, 12)
    job = stream(inbox, output, "--max-files", "4")
    wait_for_batches(job, lambda: len(visible(output)) == 4)  # one batch committed, the next one starts now
    job.send_signal(signal.SIGKILL)
    job.wait()
    restarted = stream(inbox, output, "--max-files", "4")
    wait_for_batches(restarted, lambda: len(visible(output)) == 12)
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(timeout=120) == 0

    assert main(["run", "--input", str(inbox), "--output", str(reference), "--quiet", "--entities", "off"]) == 0
    columns = "article_id, url, title, body, date, section, language, dateline_place"
    streamed = duckdb.sql(f"select {columns} from {ARTICLES.format(out=output)} order by all").fetchall()
    batch = duckdb.sql(f"select {columns} from {ARTICLES.format(out=reference)} order by all").fetchall()
    assert streamed == batch and len(streamed) == len(names)


@pytest.fixture
def many_small_files(tmp_path) -> Path:
    """An output whose one partition holds one file per run, as a stream leaves it."""
    output = tmp_path / "out"
    for n in range(6):
        folder = tmp_path / f"in{n}"
        folder.mkdir()
        write_pages(folder, 1 + n)
        for path in folder.iterdir():
            path.rename(folder / f"{n}-{path.name}")
        main(["run", "--input", str(folder), "--output", str(output), "--quiet", "--entities", "off"])
    return output


def test_compaction_under_concurrent_reads_never_shows_a_row_twice_or_misses_one(many_small_files):
    output = many_small_files
    [partition] = list(output.glob("date=*/section=*"))
    assert len(list(partition.glob("*.parquet"))) == 6
    query = f"select count(*), count(distinct article_id) from {ARTICLES.format(out=output)}"
    expected = duckdb.sql(query).fetchall()[0]
    counts, errors, stop, queried = [], [], threading.Event(), threading.Condition()

    def read() -> None:
        connection = duckdb.connect()
        while not stop.is_set():
            try:
                counts.append(connection.sql(f"select count(*), count(distinct article_id) "
                                             f"from {ARTICLES.format(out=output)}").fetchall()[0])
            except duckdb.IOException as error:  # listed a file that the exchange moved away
                errors.append(str(error))
            with queried:
                queried.notify_all()

    def queries_answered(count: int) -> None:
        """Block until the reader has answered ``count`` more queries."""
        with queried:
            target = len(counts) + count
            assert queried.wait_for(lambda: len(counts) >= target, timeout=120), "the reader stopped answering"

    reader = threading.Thread(target=read)
    reader.start()
    queries_answered(3)  # reading the small files
    assert compact_partition(partition) == (6, expected[0])
    queries_answered(3)  # reading the compacted file
    stop.set()
    reader.join()
    assert len(list(partition.glob("*.parquet"))) == 1
    assert counts and all(found == expected for found in counts), set(counts)
    assert len(errors) <= 2, errors
    print(f"compaction: {len(counts)} concurrent queries, all exact; {len(errors)} saw a moved file")


def test_compact_command_takes_the_lock_and_compacts_every_partition(many_small_files, capsys):
    assert main(["compact", "--output", str(many_small_files)]) == 0
    assert "6 files -> 1" in capsys.readouterr().out
    assert main(["compact", "--output", str(many_small_files)]) == 0  # nothing left to compact


# --------------------------------------------------------------------------------------------------
# `stream --engine` with the local DirectRunner, which runs the unbounded graph in the submitting process.

def engine_stream(tmp_path: Path, output: Path) -> subprocess.Popen:
    """`stream --engine` over configs/stream-flink.yaml's graph (file watch), on the local DirectRunner."""
    config = tmp_path / "engine.yaml"
    if not config.exists():
        (tmp_path / "inbox").mkdir()
        config.write_text(f"extends: {Path(__file__).parent.parent / 'configs' / 'stream-flink.yaml'}\n"
                          "entities: {enabled: false}\n"
                          f"stream: {{watch: '{tmp_path / 'inbox'}/**', poll_seconds: 1, runner_flags: []}}\n")
    command = [sys.executable, "-m", "pipeline.cli", "stream", "--engine", "--config", str(config),
               "--output", str(output), "--runner", "DirectRunner"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_submitted(job: subprocess.Popen) -> None:
    """Read the job's log until it says it submits the job, which it does once it holds the output's lock."""
    for line in iter(job.stderr.readline, ""):
        if "submitting the streaming job" in line:
            return
    raise AssertionError(f"the stream ended (exit {job.wait()}) before submitting its job")


def test_a_second_engine_stream_on_the_same_output_exits_75_while_the_first_runs(tmp_path):
    output = tmp_path / "out"
    first = engine_stream(tmp_path, output)
    try:
        wait_until_submitted(first)
        second = engine_stream(tmp_path, output)
        _, errors = second.communicate(timeout=120)
        assert second.returncode == 75, errors
        assert "another run holds the lock" in errors
        assert not list((output / "_runs").glob("*.json"))  # the refused job saves no summary
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    assert first.returncode == 0
    assert not (output / "_lock").exists()


def test_an_engine_stream_ended_by_sigterm_leaves_its_summary_and_the_views(tmp_path):
    output = tmp_path / "out"
    job = engine_stream(tmp_path, output)
    try:
        wait_until_submitted(job)
    finally:
        job.send_signal(signal.SIGTERM)
        printed, errors = job.communicate(timeout=120)
    assert job.returncode == 0, errors
    [saved] = (output / "_runs").glob("*.json")
    summary = json.loads(saved.read_text())
    assert (summary["status"], summary["exit_code"]) == ("stopped", 0)
    assert summary["inputs"] == [f"watch:{tmp_path / 'inbox'}/**"]
    assert f"stream {summary['run_id']} stopped" in printed
    views = duckdb.connect()
    views.execute((output / "views.sql").read_text())
    assert views.sql("select run_id, status, exit_code from runs").fetchall() == [(summary["run_id"], "stopped", 0)]
