"""Faults: SIGKILL at 23 points of a run, a full disk, an unwritable output, a dying worker. Nothing lost or doubled.

Kills are aimed from outside, by what a run shows while it works: the lock, the per-worker progress
tallies under ``OUT/.progress-<run_id>/`` (files read, captures cleaned, entities tagged), partition
folders and hidden in-progress files appearing, the ledger and the summary; some after a seeded random
delay. The code has no test hooks. After each kill the output is checked as DuckDB reads it, then the
same command runs again and must leave exactly the rows of a clean run.
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from bad_inputs.make_bad_inputs import MTIME, page, text_capture
from bad_inputs.outputs import article_rows, glob_files, rejected_rows
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.cli import main
from pipeline.cli.options import EXIT_FAILED, EXIT_NOTHING_TO_DO, EXIT_OK, EXIT_USAGE
from pipeline.output.lock import LOCK_NAME
from pipeline.output.schema import ARTICLE_GLOB, REJECTED_GLOB
from pipeline.runtime.progress import read_totals
from pipeline.runtime.worker_watch import WorkerDied, failing_when_a_worker_dies

FIXTURES = Path(__file__).parent / "fixtures"
SECTIONS = ["Politics", "Business", "Sport", "Culture"]
POLL_SECONDS = 0.002
WAIT_SECONDS = 120  # a run that shows nothing for this long is stuck: killed, and the test fails


def write_captures(folder: Path) -> Path:
    """A small mixed input spread over 24+ partitions, with a few rejects; every file has a fixed mtime."""
    folder.mkdir()
    for n in range(36):
        (folder / f"story-{n:02d}.txt").write_text(text_capture(300 + n))
        (folder / f"story-{n:02d}.meta.json").write_text(json.dumps(
            {"section": SECTIONS[n % 4], "published_at": f"2024-03-0{n % 6 + 1}T08:00:00Z"}))
    for n in range(8):
        meta = f'<meta property="article:section" content="{SECTIONS[n % 4]}">'
        (folder / f"page-{n}.html").write_text(page(400 + n, meta))
    records = [json.dumps({"url": f"https://wire.example/{n}", "fetched_at": "2024-03-02T10:00:00Z",
                           "text": text_capture(500 + n)}) for n in range(8)]
    (folder / "wire.jsonl").write_text("\n".join([*records, '{"broken": ']) + "\n")
    with open(folder / "crawl.warc.gz", "wb") as raw:
        writer = WARCWriter(raw, gzip=True)
        for n, (payload, kind) in enumerate([(page(600).encode(), "text/html"), (page(601).encode(), "text/html"),
                                             (b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")]):
            http = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"https://crawl.example/{n}", "response", payload=io.BytesIO(payload), http_headers=http,
                warc_headers_dict={"WARC-Date": "2024-03-04T10:00:00Z"}))
    for name in ("chip-plant.html", "sequia.html", "seed_shaped.txt"):
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "furniture.txt").write_text("Share this article\n\nBack to top\n")
    for path in folder.iterdir():
        os.utime(path, (MTIME, MTIME))
    return folder


def command(captures: Path, output: Path, *, entities: bool, reprocess: bool = False, workers: int = 1) -> list[str]:
    return ["run", "--input", str(captures), "--output", str(output), "--quiet", "--entities",
            "on" if entities else "off", *(["--reprocess"] if reprocess else []), "--workers", str(workers)]


def spawn(args: list[str], **kwargs) -> subprocess.Popen:
    """``newsbeam`` as its own process group, so a kill reaches every process of the run."""
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)


def finish(process: subprocess.Popen, timeout: float) -> str:
    """Wait for a spawned run and return its stderr; a run still going after ``timeout`` is killed and fails."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"the run was still going after {timeout:.0f}s (killed)")


def snapshot(output: Path) -> dict:
    """What a reader can see: committed rows, and any file the two query globs match."""
    return {"articles": article_rows(output), "rejected": rejected_rows(output),
            "matched": glob_files(output, ARTICLE_GLOB) + glob_files(output, REJECTED_GLOB)}


def rows_of(seen: dict) -> tuple[list[dict], list[dict]]:
    return seen["articles"], seen["rejected"]


def uncommitted(paths: list[str]) -> list[str]:
    """Matched files that are not committed ``part-*.parquet`` files (a temporary a glob would pick up)."""
    return [p for p in paths if not (Path(p).name.startswith("part-") and Path(p).name.endswith(".parquet"))]


def lost_and_doubled(rows: list[dict], clean: list[dict]) -> tuple[int, int]:
    seen, expected = Counter(map(repr, rows)), Counter(map(repr, clean))
    return sum((expected - seen).values()), sum((seen - expected).values())


@pytest.fixture(scope="module")
def captures(tmp_path_factory) -> Path:
    return write_captures(tmp_path_factory.mktemp("faults") / "captures")


@pytest.fixture(scope="module")
def clean(captures, tmp_path_factory) -> dict:
    """Clean runs with entities off and on, as processes: their outputs and wall times."""
    runs = {}
    for entities in (False, True):
        output = tmp_path_factory.mktemp("clean")
        started = time.monotonic()
        process = spawn(command(captures, output, entities=entities))
        errors = finish(process, 300)
        assert process.returncode == EXIT_OK, errors
        runs[entities] = {"seconds": time.monotonic() - started, **snapshot(output)}
        assert runs[entities]["articles"] and runs[entities]["rejected"]
    return runs


# --- SIGKILL ----------------------------------------------------------------------------------------

Trigger = Callable[[Path, float], bool]  # (output folder, wall-clock start of the run) -> fire now?


def started(_: Path, __: float) -> bool:
    return True


def appeared(*patterns: str) -> Trigger:
    return lambda output, _: any(any(output.glob(pattern)) for pattern in patterns)


def tallied(name: str) -> Trigger:
    return lambda output, _: any(read_totals(str(folder))[name] for folder in output.glob(".progress-*"))


def rewritten(output: Path, since: float) -> bool:
    """An old partition file is being or has been rewritten by this run."""
    if any(output.glob("date=*/section=*/.*.rewrite.inprogress")):
        return True
    for path in output.glob("date=*/section=*/part-*.parquet"):
        try:
            if path.stat().st_mtime > since:
                return True
        except FileNotFoundError:  # renamed over while we looked
            return True
    return False


@dataclass(frozen=True)
class KillPoint:
    """Kill once ``trigger`` fires, ``delay`` seconds plus ``share`` of a clean run's wall time later."""

    name: str
    trigger: Trigger
    delay: float = 0.0
    share: float = 0.0
    entities: bool = False
    reprocess: bool = False


_RNG = random.Random(20241127)
_WRITING = appeared("date=*/section=*")
KILL_POINTS = [
    KillPoint("starting, before the lock", started, 0.1),
    KillPoint("lock just taken", appeared(LOCK_NAME)),
    KillPoint("building the graph", appeared(".progress-*"), _RNG.uniform(0.2, 0.8)),
    *[KillPoint(f"reading+cleaning, {delay:.3f}s after the first file", tallied("files"), delay)
      for delay in sorted(_RNG.uniform(0, 0.15) for _ in range(4))],
    KillPoint("cleaning, first article enriched", tallied("enriched")),
    KillPoint("cleaning, 0.1s after the first article", tallied("enriched"), 0.1),
    KillPoint("first partition folder", _WRITING),
    KillPoint("partition file in progress", appeared("date=*/section=*/.*.inprogress", "date=*/section=*/*.parquet")),
    KillPoint("first partition committed", appeared("date=*/section=*/part-*.parquet")),
    KillPoint("writing, 0.02s in", _WRITING, 0.02),
    KillPoint("dead letters written", appeared("_rejected/*")),
    KillPoint("ledger folder made", appeared("_ledger")),
    KillPoint("ledger committed", appeared("_ledger/*.parquet")),
    KillPoint("summary saved", appeared("_runs/*.json")),
    *[KillPoint(f"random, {share:.0%} into the run", started, share=share)  # 2/3 of a run is start-up
      for share in (_RNG.uniform(0.3, 0.65), _RNG.uniform(0.3, 0.65))],
    KillPoint("tagging entities", tallied("entities"), entities=True),
    KillPoint("reading+cleaning, entities on", tallied("files"), _RNG.uniform(0, 0.15), entities=True),
    KillPoint("first partition committed, entities on", appeared("date=*/section=*/part-*.parquet"), entities=True),
    KillPoint("--reprocess: first old file rewritten", rewritten, reprocess=True),
    KillPoint("--reprocess: reading", tallied("files"), _RNG.uniform(0, 0.15), reprocess=True),
]


def kill_when(process: subprocess.Popen, output: Path, point: KillPoint, clean_seconds: float) -> float:
    """SIGKILL the run's process group once ``point`` fires; return when, in seconds after the start."""
    start, since = time.monotonic(), time.time()
    while not point.trigger(output, since):
        if process.poll() is not None:
            pytest.fail(f"kill point {point.name!r}: the run ended (exit {process.returncode}) before it fired")
        if time.monotonic() - start > WAIT_SECONDS:
            finish(process, 0)
        time.sleep(POLL_SECONDS)
    time.sleep(point.delay + point.share * clean_seconds)
    killed_at = time.monotonic() - start
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL, f"kill point {point.name!r}: the run ended before the kill"
    return killed_at


def phase_seen(output: Path) -> str:
    """The phase a killed run was in, from what it left behind."""
    totals = sum((read_totals(str(folder)) for folder in output.glob(".progress-*")), Counter())
    if any(output.glob("_ledger/*")) or any(output.glob("_runs/*")):
        return "committing"
    if any(output.glob("date=*")):
        return "writing"
    if totals["entities"]:
        return "tagging entities"
    if any(output.glob("_rejected/*")):
        return "writing"
    if totals["files"] or totals["enriched"]:
        return "reading+cleaning"
    return "starting"


@pytest.mark.slow
def test_sigkill_at_any_point_then_a_rerun_leaves_exactly_the_clean_rows(captures, clean, tmp_path):
    problems, lines, phases = [], [], Counter()
    for number, point in enumerate(KILL_POINTS):
        reference = clean[point.entities]
        output = tmp_path / f"out-{number}"
        if point.reprocess:
            assert main(command(captures, output, entities=point.entities)) == EXIT_OK
        process = spawn(command(captures, output, entities=point.entities, reprocess=point.reprocess))
        killed_at = kill_when(process, output, point, reference["seconds"])
        phase = "a --reprocess run" if point.reprocess else phase_seen(output)
        phases[phase] += 1
        seen = snapshot(output)
        hidden = [p for p in output.rglob(".*") if p.is_file()]
        rerun = main(command(captures, output, entities=point.entities, reprocess=point.reprocess))
        final = snapshot(output)
        lost, doubled = lost_and_doubled(final["articles"], reference["articles"])
        lost_rejections, doubled_rejections = lost_and_doubled(final["rejected"], reference["rejected"])
        ids = [row["article_id"] for row in seen["articles"]]
        checks = {
            "a glob matched an uncommitted file after the kill": uncommitted(seen["matched"]),
            "a row was visible twice after the kill": len(ids) != len(set(ids)),
            "a visible row is not a row of the clean run": lost_and_doubled(seen["articles"], reference["articles"])[1],
            "a replaced row was missing or doubled mid-rewrite": point.reprocess and rows_of(seen) != rows_of(
                reference),
            "the re-run did not succeed": rerun not in (EXIT_OK, EXIT_NOTHING_TO_DO),
            "rows differ from the clean run": lost or doubled or lost_rejections or doubled_rejections,
            "a glob matched an uncommitted file after the re-run": uncommitted(final["matched"]),
            "the lock was left behind": (output / LOCK_NAME).exists(),
        }
        problems += [f"{point.name}: {what}" for what, failed in checks.items() if failed]
        lines.append(f"  {number + 1:2d}. {point.name:<48} killed at {killed_at:5.2f}s in {phase:<17} "
                     f"visible {len(seen['articles']):2d} rows, {len(hidden)} hidden files; re-run exit {rerun}, "
                     f"lost {lost}, doubled {doubled}")
    print(f"\nkill points: {len(KILL_POINTS)} ({', '.join(f'{p} {n}' for p, n in phases.items())}); "
          f"clean run {len(clean[False]['articles'])} articles + {len(clean[False]['rejected'])} rejections")
    print("\n".join(lines))
    print(f"rows lost 0, doubled 0: {not problems}")
    assert problems == []
    assert {"reading+cleaning", "writing", "committing"} <= phases.keys()


# --- a full disk, an unwritable output ----------------------------------------------------------------


def _small_files_only() -> None:
    """Every file of the run is capped at 4 KiB: the lock and summary fit, partition files do not."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing the run
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


@pytest.mark.slow
def test_a_full_disk_fails_naming_the_file_and_leaves_no_partial_partition(captures, clean, tmp_path):
    output = tmp_path / "out"
    process = spawn(command(captures, output, entities=False), preexec_fn=_small_files_only)
    errors = finish(process, 300)
    assert process.returncode == EXIT_FAILED
    [failure] = [line for line in errors.splitlines() if " failed: " in line]
    assert "File too large" in failure and f"'{output}/" in failure
    [summary] = [json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")]
    assert summary["status"] == "failed" and f"'{output}/" in summary["message"]
    leftovers = [str(p) for p in output.rglob("*") if p.name.startswith(".") or (p.is_dir() and not any(p.iterdir()))]
    assert leftovers == []
    assert uncommitted(snapshot(output)["matched"]) == []
    assert main(command(captures, output, entities=False)) == EXIT_OK
    assert rows_of(snapshot(output)) == rows_of(clean[False])
    print(f"\nfull disk: exit {process.returncode}, `{failure.split(' failed: ')[1][:100]}...`; "
          f"no hidden or empty partition left; re-run complete, rows lost 0")


@pytest.mark.slow
def test_an_unwritable_output_folder_fails_with_one_clear_error_naming_it(captures, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("a file where the output folder should be")
    for output in (taken, Path("/proc/newsbeam-output")):
        process = spawn(command(captures, output, entities=False))
        errors = finish(process, 120)
        assert process.returncode == EXIT_USAGE, errors  # refused before anything runs
        assert "Traceback" not in errors and str(output) in errors, errors
        print(f"\nunwritable output {output}: exit {process.returncode}; " + " | ".join(errors.strip().splitlines()))
    assert taken.read_text() == "a file where the output folder should be"


# --- a worker process dying -----------------------------------------------------------------------------


def session_processes(session: int) -> dict[int, bytes]:
    """Command lines of the live processes in a session, by pid (from /proc: Linux)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                state, _, _, sid = (proc / "stat").read_text().rsplit(")", 1)[1].split()[:4]
                if int(sid) == session and state != "Z":
                    found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            except (OSError, ValueError):
                continue
    return found


def sdk_workers(session: int) -> list[int]:
    """The Python SDK worker processes of a ``--workers N`` run (not the ``sh -c`` that starts each)."""
    return [pid for pid, line in session_processes(session).items()
            if b"sdk_worker" in line and not line.startswith(b"/bin/sh")]


@pytest.mark.parametrize("moment, trigger", [("reading", tallied("files")), ("writing", appeared("date=*/section=*"))],
                         ids=["reading", "writing"])
@pytest.mark.slow
def test_a_worker_dying_under_two_workers_fails_the_run_or_loses_nothing(captures, clean, tmp_path, moment, trigger):
    output = tmp_path / "out"
    process = spawn(command(captures, output, entities=False, workers=2))
    since = time.time()
    while not (trigger(output, since) and len(sdk_workers(process.pid)) == 2):
        assert process.poll() is None, "the run ended before a worker could be killed"
        if time.time() - since > WAIT_SECONDS:
            finish(process, 0)
        time.sleep(POLL_SECONDS)
    victim = sdk_workers(process.pid)[0]
    os.kill(victim, signal.SIGKILL)
    errors = finish(process, 120)  # the run must fail, not wait for the dead worker for ever
    deadline = time.monotonic() + 60
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = session_processes(process.pid)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    [summary] = [json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")]
    seen = snapshot(output)
    if process.returncode == EXIT_OK:
        assert rows_of(seen) == rows_of(clean[False]), "success reported with rows missing"
    else:
        assert (process.returncode, summary["status"]) == (EXIT_FAILED, "failed") and summary["message"], errors
    assert survivors == {}
    assert uncommitted(seen["matched"]) == []
    assert main(command(captures, output, entities=False)) == EXIT_OK
    lost, doubled = lost_and_doubled(snapshot(output)["articles"], clean[False]["articles"])
    assert rows_of(snapshot(output)) == rows_of(clean[False])
    print(f"\nworker {victim} killed while {moment}: exit {process.returncode} ({summary['status']}: "
          f"{summary['message'][:80]}), {len(seen['articles'])} rows visible; re-run: lost {lost}, doubled {doubled}")


def test_a_worker_thread_reporting_a_dead_worker_wakes_the_waiting_run():
    """Beam's worker thread raises this error when the process dies; the blocked main thread must fail."""
    never = threading.Event()
    with pytest.raises(WorkerDied, match="return code 137"), failing_when_a_worker_dies():
        threading.Thread(target=_report_dead_worker).start()
        never.wait(timeout=60)
    assert not never.is_set()


def _report_dead_worker() -> None:
    raise RuntimeError("Worker subprocess exited with return code 137")
