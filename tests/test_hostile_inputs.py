"""What crawlers, rsync, humans and other programs leave in an input folder: no capture lost, hung or doubled.

Every test builds real files (undecodable names, FIFOs, sockets, symlinks out of the folder, late sidecars,
files cut short by another process) and runs the real pipeline over them, then reads the rows, the dead
letters, the ledger and the run summary back. Processes are ordered by events (a file appearing, a log
line, a signal), never by sleeping.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from bad_inputs.make_bad_inputs import MTIME, page, text_capture

from pipeline.captures import local_path
from pipeline.cli import main
from pipeline.cli.options import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_NOTHING_READ,
    EXIT_NOTHING_TO_DO,
    EXIT_OK,
    EXIT_STOPPED,
)
from pipeline.config import load_run_config, pipeline_version
from pipeline.graph.batch import RunSpec, execute
from pipeline.output.ledger import list_inputs
from pipeline.output.lock import LOCK_NAME

WAIT_SECONDS = 180  # an event that has not come by then never will: the test fails instead of hanging


def run(captures: Path, output: Path, *extra: str) -> int:
    return main(["run", "--input", str(captures), "--output", str(output), "--quiet", "--entities", "off", *extra])


def command(verb: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", verb, "--entities", "off", *args]


def articles(output: Path) -> list[dict]:
    if not list(output.glob("date=*/section=*/*.parquet")):
        return []
    return duckdb.sql(f"select *, date::varchar as day from read_parquet('{output}/date=*/section=*/*.parquet', "
                      "hive_partitioning=true) order by source_uri").arrow().read_all().to_pylist()


def dead_letters(output: Path) -> list[dict]:
    if not list(output.glob("_rejected/*.parquet")):
        return []
    return duckdb.sql(f"select source_uri, reason, detail from read_parquet('{output}/_rejected/*.parquet') "
                      "order by source_uri").arrow().read_all().to_pylist()


def ledger(output: Path) -> dict[str, dict]:
    rows = duckdb.sql(f"select * from read_parquet('{output}/_ledger/*.parquet', union_by_name=true) "
                      "order by committed_at").arrow().read_all().to_pylist()
    return {row["path"]: row for row in rows}


def last_summary(output: Path) -> dict:
    return max((json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")), key=lambda s: s["started_at"])


def wait_until(condition, process: subprocess.Popen | None = None) -> None:
    """Poll ``condition`` (a cheap file check) until true; fail if ``process`` ends or nothing happens."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert process is None or process.poll() is None, (process.communicate()[1] or "")[-3000:]
        assert time.monotonic() < deadline, "the awaited event never came"
        time.sleep(0.01)


def sidecar(url: str, section: str = "World", published: str = "2024-03-01T10:00:00Z") -> str:
    return json.dumps({"url": url, "section": section, "published_at": published})


def spec_for(files, output: Path) -> RunSpec:
    cfg = load_run_config()
    cfg["entities"]["enabled"] = False
    return RunSpec(files, str(output), cfg, "listed-then-changed", pipeline_version())


def local_options():
    from apache_beam.options.pipeline_options import PipelineOptions

    return PipelineOptions(["--runner=FnApiRunner"])


# 1 -----------------------------------------------------------------------------------------------------


def test_a_name_that_is_not_utf8_is_read_and_kept_reversibly_in_source_uri(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    odd = captures / os.fsdecode(b"caf\xe9 #1 100%.html")  # Latin-1 byte, '#' and '%' in one name
    odd.write_text(page(1))
    (captures / "plain.html").write_text(page(2))
    assert run(captures, output) == EXIT_OK
    rows = articles(output)
    assert [row["source_uri"].rsplit("/", 1)[1] for row in rows] == ["caf%E9 %231 100%25.html", "plain.html"]
    assert local_path(rows[0]["source_uri"]) == str(odd)  # the escaping is reversible
    assert set(ledger(output)) == {row["source_uri"] for row in rows}
    assert run(captures, output) == EXIT_NOTHING_TO_DO  # the ledger knows the odd name again


# 2 -----------------------------------------------------------------------------------------------------


def test_fifos_and_sockets_named_like_captures_or_sidecars_are_skipped_and_counted(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    (captures / "story.html").write_text(page(3))
    os.mkfifo(captures / "pipe.html")
    os.mkfifo(captures / "story.meta.json")  # like the story's sidecar
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(captures / "sock.jsonl"))
    try:
        finished = subprocess.run(command("run", "--input", str(captures), "--output", str(output), "--quiet"),
                                  capture_output=True, text=True, timeout=WAIT_SECONDS)
    finally:
        listener.close()
    assert finished.returncode == EXIT_OK, finished.stderr
    [row] = articles(output)
    assert row["source_uri"].endswith("/story.html") and row["url"] is None
    summary = last_summary(output)
    assert summary["files_skipped"] == {"not_a_regular_file": 3}
    assert (summary["files_listed"], summary["captures_read"], summary["articles_written"]) == (1, 1, 1)
    assert finished.stderr.count("not a regular file") == 3
    assert not (output / LOCK_NAME).exists()


# 3 -----------------------------------------------------------------------------------------------------


def test_a_file_that_could_not_be_read_is_not_committed_and_the_next_run_reads_it(tmp_path):
    """The read fails for real: the file is listed, then moved away before the pipeline opens it (what a
    root-proof ``chmod 000`` would do), then moved back with its mtime, as the issue's user did."""
    captures, output, aside = tmp_path / "in", tmp_path / "out", tmp_path / "aside.html"
    captures.mkdir()
    (captures / "a.html").write_text(page(4))
    late = captures / "b.html"
    late.write_text(page(5))
    os.utime(late, (MTIME, MTIME))
    listing = list_inputs([f"{captures}/**"])
    late.rename(aside)
    counters = execute(spec_for(listing.files, output), local_options())
    assert (counters["captures_read"], counters["articles_written"], counters["rejected.unreadable"],
            counters["files_to_retry"]) == (2, 1, 1, 1)
    [letter] = dead_letters(output)
    assert letter["source_uri"] == str(late) and "read again by the next run" in letter["detail"]
    assert set(ledger(output)) == {str(captures / "a.html")}  # not committed
    aside.rename(late)
    assert late.stat().st_mtime == MTIME
    assert run(captures, output) == EXIT_OK
    assert [row["source_uri"] for row in articles(output)] == [str(captures / "a.html"), str(late)]
    assert dead_letters(output) == []  # the "will retry" letter is withdrawn once the file reads
    summary = last_summary(output)
    assert (summary["files_unchanged"], summary["files_read"], summary["rejections_withdrawn"]) == (1, 1, 1)


# 4 -----------------------------------------------------------------------------------------------------


def test_a_sidecar_added_or_edited_after_its_page_replaces_the_row(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    (captures / "story.html").write_text(page(6))
    assert run(captures, output) == EXIT_OK
    [before] = articles(output)
    assert before["article_id"].startswith("body:") and before["url"] is None
    assert before["section_source"] != "sidecar"
    (captures / "story.meta.json").write_text(sidecar("https://news.example/world/2024/03/01/ferry"))
    assert run(captures, output) == EXIT_OK
    [added] = articles(output)
    assert added["article_id"].startswith("url:")
    assert (added["url"], added["section"], added["day"]) == ("https://news.example/world/2024/03/01/ferry",
                                                              "world", "2024-03-01")
    assert last_summary(output)["replaced"] == 1
    (captures / "story.meta.json").write_text(sidecar("https://news.example/business/2024/03/02/ferry",
                                                      "Business", "2024-03-02T10:00:00Z"))
    assert run(captures, output) == EXIT_OK
    [edited] = articles(output)
    assert (edited["section"], edited["day"]) == ("business", "2024-03-02")
    assert run(captures, output) == EXIT_NOTHING_TO_DO


def urls(output: Path) -> dict[str, str | None]:
    return {row["source_uri"].rsplit("/", 1)[1]: row["url"] for row in articles(output)}


def _all_urls_applied(output: Path, expected: int) -> bool:
    """True once ``expected`` rows all carry a URL. A live stream replaces a row by writing the new file and
    then deleting the old one, so a read between DuckDB's glob and its open can miss a file: not yet."""
    try:
        found = urls(output)
    except duckdb.IOException:
        return False
    return len(found) == expected and None not in found.values()


def test_stream_waits_for_a_sidecar_and_applies_one_that_comes_after_the_wait(tmp_path):
    """``old.html`` is past the wait when first seen, so it is read without its sidecar; ``new.html`` is
    held until its sidecar lands. Both sidecars land after the first batch is committed."""
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    (captures / "old.html").write_text(page(7))
    os.utime(captures / "old.html", (MTIME, MTIME))
    (captures / "new.html").write_text(page(8))
    (captures / "wire.jsonl").write_text(json.dumps({"url": "https://wire.example/1", "text": text_capture(9),
                                                     "fetched_at": "2024-03-03T10:00:00Z"}) + "\n")
    process = subprocess.Popen(command("stream", "--watch", str(captures), "--output", str(output), "--interval",
                                       "50ms", "--sidecar-wait", "1h", "--quiet"), stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: list(output.glob("_ledger/*.parquet")), process)
        assert {Path(path).name for path in ledger(output)} == {"old.html", "wire.jsonl"}
        assert urls(output)["old.html"] is None
        (captures / "new.meta.json").write_text(sidecar("https://news.example/world/2024/03/01/new"))
        (captures / "old.meta.json").write_text(sidecar("https://news.example/world/2024/03/01/old"))
        wait_until(lambda: _all_urls_applied(output, 3), process)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT_SECONDS) == EXIT_OK, process.stderr.read()[-3000:]
    finally:
        process.kill()
    assert len(articles(output)) == 3
    assert urls(output) == {"old.html": "https://news.example/world/2024/03/01/old",
                    "new.html": "https://news.example/world/2024/03/01/new", "wire.jsonl#line=1": "https://wire.example/1"}


# 5 -----------------------------------------------------------------------------------------------------


def test_stories_whose_canonical_link_is_a_front_are_not_merged(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    for n, canonical in enumerate(["https://news.example/", "https://news.example/", "https://news.example/world"]):
        (captures / f"story-{n}.html").write_text(page(10 + n, f'<link rel="canonical" href="{canonical}">'))
        (captures / f"story-{n}.meta.json").write_text(sidecar(f"https://news.example/world/2024/03/01/s{n}"))
    for n in range(2):  # no capture URL at all: the body tells them apart
        (captures / f"bare-{n}.html").write_text(page(20 + n, '<link rel="canonical" href="https://news.example">'))
    # a plausible canonical still joins two copies of one story fetched under different addresses
    for n in range(2):
        (captures / f"copy-{n}.html").write_text(
            page(30, '<link rel="canonical" href="https://news.example/world/2024/03/01/same-story">'))
        (captures / f"copy-{n}.meta.json").write_text(sidecar(f"https://m.news.example/s?id=30&v={n}"))
    assert run(captures, output) == EXIT_OK
    rows = {row["source_uri"].rsplit("/", 1)[1]: row for row in articles(output)}
    assert sorted(rows) == ["bare-0.html", "bare-1.html", "copy-0.html", "story-0.html", "story-1.html",
                            "story-2.html"]
    assert [rows[f"story-{n}.html"]["url"] for n in range(3)] == [
        f"https://news.example/world/2024/03/01/s{n}" for n in range(3)]
    assert [rows[f"bare-{n}.html"]["article_id"][:5] for n in range(2)] == ["body:", "body:"]
    assert rows["copy-0.html"]["url"] == "https://news.example/world/2024/03/01/same-story"
    summary = last_summary(output)
    assert (summary["captures_read"], summary["articles_written"], summary["duplicates_in_run"]) == (7, 6, 1)


# 6 -----------------------------------------------------------------------------------------------------


def test_a_paused_lock_holder_keeps_its_lock_and_a_stalled_run_cannot_double_rows(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    for n in range(12):
        (captures / f"story-{n:02d}.html").write_text(page(40 + n))
    stalled = subprocess.Popen(command("run", "--input", str(captures), "--output", str(output)),
                               stderr=subprocess.PIPE, text=True)
    try:
        _stop_after_line(stalled, "files listed")
        lock = output / LOCK_NAME
        holder = json.loads(lock.read_text())
        stale = time.time() - 3600
        os.utime(lock, (stale, stale))  # a heartbeat an hour old: paused, not dead
        assert run(captures, output) == EXIT_LOCKED  # same host, pid alive: never taken over
        assert json.loads(lock.read_text()) == holder
        # Another host's run finds the same stale heartbeat; it can't see the pid, so it takes the lock over.
        lock.write_text(json.dumps({**holder, "host": "elsewhere.example"}))
        os.utime(lock, (stale, stale))
        assert run(captures, output) == EXIT_OK
        assert len(articles(output)) == 12
        stalled.send_signal(signal.SIGCONT)
        _, errors = stalled.communicate(timeout=WAIT_SECONDS)
    finally:
        stalled.kill()
    assert stalled.returncode == EXIT_FAILED, errors[-3000:]
    assert "no longer holds the lock" in errors
    rows = articles(output)
    assert (len(rows), len({row["article_id"] for row in rows})) == (12, 12)
    generations = {row["run_id"]: row["lock_generation"] for row in ledger(output).values()}
    assert list(generations.values()) == [holder["generation"] + 1]
    summaries = {s["run_id"]: s for s in (json.loads(p.read_text()) for p in (output / "_runs").glob("*.json"))}
    assert summaries[holder["run_id"]]["status"] == "failed"
    assert run(captures, output) == EXIT_NOTHING_TO_DO


def _stop_after_line(process: subprocess.Popen, text: str) -> None:
    """Read ``process``'s stderr until a line holding ``text`` (its log), then SIGSTOP it."""
    for line in process.stderr:
        if text in line:
            process.send_signal(signal.SIGSTOP)
            return
    raise AssertionError(f"the run ended without logging {text!r}")


# 8 -----------------------------------------------------------------------------------------------------


def test_symlinks_out_of_the_input_folder_are_not_followed_unless_asked(tmp_path):
    captures, output, outside = tmp_path / "in", tmp_path / "out", tmp_path / "elsewhere"
    (captures / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "private.html").write_text(page(60))
    (captures / "sub" / "story.html").write_text(page(61))
    (captures / "passwd.html").symlink_to("/etc/passwd")
    (captures / "private.html").symlink_to(outside / "private.html")
    (captures / "linked").symlink_to(outside, target_is_directory=True)  # never descended into by the listing
    (captures / "inside.html").symlink_to(captures / "sub" / "story.html")  # stays inside: read
    assert run(captures, output) == EXIT_OK
    rows = articles(output)
    assert [Path(row["source_uri"]).name for row in rows] == ["inside.html"]  # sub/story.html: its duplicate
    summary = last_summary(output)
    assert summary["files_skipped"] == {"symlink_outside_input": 2}
    assert (summary["captures_read"], summary["duplicates_in_run"]) == (2, 1)
    assert run(captures, output, "--follow-symlinks") == EXIT_OK
    names = {Path(row["source_uri"]).relative_to(captures).as_posix() for row in articles(output)}
    assert {"inside.html", "private.html"} <= names and "linked/private.html" not in names
    assert last_summary(output)["files_skipped"] == {}


# 9 -----------------------------------------------------------------------------------------------------


def test_a_file_cut_short_by_another_process_is_not_written_as_a_shorter_article(tmp_path):
    """``truncate(1)`` cuts the page after it is listed and before the reader reaches its end."""
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    whole = page(70, extra_body="<p>" + "The council will publish the full minutes next week. " * 200 + "</p>")
    target = captures / "long.html"
    target.write_text(whole)
    listing = list_inputs([f"{captures}/**"])
    subprocess.run(["truncate", "--size", str(len(whole) // 3), str(target)], check=True)
    counters = execute(spec_for(listing.files, output), local_options())
    assert (counters["captures_read"], counters["rejected.changed_during_read"],
            counters["files_to_retry"]) == (1, 1, 1)
    assert counters.get("articles_written", 0) == 0 and articles(output) == []
    [letter] = dead_letters(output)
    assert f"listed with {len(whole)}" in letter["detail"]
    assert not list(output.glob("_ledger/*.parquet"))
    target.write_text(whole)
    assert run(captures, output) == EXIT_OK
    [row] = articles(output)
    assert row["body"].count("full minutes") == 200 and dead_letters(output) == []


# 10 ----------------------------------------------------------------------------------------------------


def test_an_mtime_before_min_year_is_no_capture_time(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    for name in ("undated.html", "with-sidecar.html"):
        (captures / name).write_text(page(80 if name == "undated.html" else 81))
        os.utime(captures / name, (86400, 86400))  # 1970-01-02
    (captures / "with-sidecar.meta.json").write_text(json.dumps({"fetched_at": "2024-03-04T09:00:00Z"}))
    assert run(captures, output) == EXIT_OK
    [row] = articles(output)
    assert (Path(row["source_uri"]).name, row["day"], row["captured_at_source"]) == ("with-sidecar.html",
                                                                                      "2024-03-04", "sidecar")
    [letter] = dead_letters(output)
    assert (Path(letter["source_uri"]).name, letter["reason"]) == ("undated.html", "no_date")
    assert not list(output.glob("date=1970-*"))


def test_a_hash_in_a_file_name_does_not_break_updates_of_that_file(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    for number, name in ((90, "a#line=1.html"), (92, "b#offset=0.html")):
        (captures / name).write_text(page(number))
    assert run(captures, output) == EXIT_OK
    target = captures / "a#line=1.html"
    target.write_text(page(91))
    os.utime(target, (time.time() + 5, time.time() + 5))
    assert run(captures, output) == EXIT_OK
    rows = articles(output)
    assert [Path(row["source_uri"]).name for row in rows] == ["a%23line=1.html", "b%23offset=0.html"]
    assert "story 91" in rows[0]["title"] and "story 92" in rows[1]["title"]
    assert last_summary(output)["replaced"] == 1


def test_sdk_workers_end_when_their_launcher_is_killed(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    for n in range(200):
        (captures / f"story-{n:03d}.html").write_text(page(100 + n))
    launcher = subprocess.Popen(command("run", "--input", str(captures), "--output", str(output), "--quiet",
                                        "--workers", "2"), stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: len(_sdk_workers(launcher.pid)) == 2 and all(
            _threads(pid) > 1 for pid in _sdk_workers(launcher.pid)), launcher)
        workers = _sdk_workers(launcher.pid)
        launcher.kill()
        launcher.wait()
        wait_until(lambda: not any(_alive(pid) for pid in workers))
    finally:
        for pid in _session(launcher.pid):
            os.kill(pid, signal.SIGKILL)
    assert [pid for pid in workers if _alive(pid)] == []


def _session(session: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session and fields[0] != "Z":
                found.append(int(proc.name))
    return found


def _sdk_workers(session: int) -> list[int]:
    workers = []
    for pid in _session(session):
        try:
            line = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pipeline.runtime.sdk_worker" in line and not line.startswith(b"/bin/sh"):
            workers.append(pid)
    return workers


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_sigtermed_run_saves_a_summary_saying_stopped(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    for n in range(30):
        (captures / f"story-{n:02d}.html").write_text(page(300 + n))
    process = subprocess.Popen(command("run", "--input", str(captures), "--output", str(output)),
                               stderr=subprocess.PIPE, text=True)
    try:
        _stop_after_line(process, "files listed")
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGCONT)
        _, errors = process.communicate(timeout=WAIT_SECONDS)
    finally:
        process.kill()
    assert process.returncode == EXIT_STOPPED, errors[-3000:]
    summary = last_summary(output)
    assert (summary["status"], summary["message"], summary["exit_code"]) == ("stopped", "stopped by SIGTERM",
                                                                              EXIT_STOPPED)
    assert not (output / LOCK_NAME).exists()
    assert run(captures, output) == EXIT_OK and len(articles(output)) == 30


def test_a_run_refuses_at_the_door_when_every_file_is_skipped(tmp_path, capsys):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    os.mkfifo(captures / "only.html")
    assert run(captures, output) == EXIT_NOTHING_READ
    assert "1 passed over: not regular files" in capsys.readouterr().err
    assert not output.exists()
