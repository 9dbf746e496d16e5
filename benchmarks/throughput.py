"""Throughput of ``newsbeam run`` against the tightest plain loop, whole processes alternated in one run.

    python benchmarks/throughput.py --corpus DIR [--docs 200 1000 10000] [--repeat K] [--json OUT.json]
    python benchmarks/throughput.py --corpus DIR --growth-only --docs 1000 10000

Builds N captures from the pages of ``--corpus`` (cycled, every URL made unique so nothing is
deduplicated; see ``scaling.py``), then, K times in turn, runs each pair as a user would, one process
each, on the same files:

- the full pipeline (``newsbeam run``, 1 worker, default config) against ``plain_loop.py`` (trafilatura
  with metadata, langdetect, spaCy's small model with only tok2vec and ner through ``nlp.pipe``, Parquet
  written with pyarrow);
- extraction (``newsbeam run --entities off``, default config: every enrichment but NER) against
  ``plain_loop.py --extract-only`` (trafilatura with metadata alone);

and the same four commands on one capture: their start-up. A ratio is the loop's seconds over the
pipeline's (above 1: newsbeam is faster); each pair is timed back to back, and the median of the K
ratios is reported, because the machine's speed drifts between runs. ``--growth-only`` runs only the
pipeline at each size, for how time and peak memory grow with N. A benchmark, not a test: nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaling import REPO, build_input, template_files  # noqa: E402  (the shared input builder)

LOOP = [sys.executable, str(REPO / "benchmarks" / "plain_loop.py")]
# (name, newsbeam run flags, plain loop flags)
PAIRS = [("full pipeline / tight loop", [], []),
         ("entities off / trafilatura alone", ["--entities", "off"], ["--extract-only"])]


def run_loop(captures: Path, output: Path, flags: list[str]) -> float:
    """Seconds of ``plain_loop.py`` as a whole process."""
    clock = time.perf_counter()
    subprocess.run([*LOOP, "--input", str(captures), "--output", str(output), *flags], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - clock


def measure_pairs(captures: Path, workdir: Path, attempt: int, config: list[str]) -> dict:
    """Each pair once, pipeline (with ``config`` flags) then loop, on ``captures``: seconds, and peak RSS of
    the pipeline."""
    measured = {}
    for index, (name, flags, loop_flags) in enumerate(PAIRS):
        tag = f"{captures.name}-{index}-{attempt}"
        run = run_pipeline(captures, workdir / f"out-{tag}", 1, [*config, *flags])
        loop = run_loop(captures, workdir / f"loop-{tag}.parquet", loop_flags)
        measured[name] = {"pipeline": run["seconds"], "loop": loop, "articles": run["articles"],
                          "peak_rss_mb": run["peak_rss_mb"], "stage_seconds": run["stage_seconds"]}
    return measured


def run_pipeline(captures: Path, output: Path, workers: int, extra: list[str]) -> dict:
    """``newsbeam run`` as a user runs it, with peak RSS per process sampled from /proc."""
    command = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(captures), "--output", str(output),
               "--workers", str(workers), "--quiet", *extra]
    clock = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peaks: dict[int, tuple[str, int, int]] = {}
    while process.poll() is None:
        for pid in _descendants(process.pid) | {process.pid}:
            peak, anon = _memory_kb(pid)
            if peak:
                _, last_peak, last_anon = peaks.get(pid, ("", 0, 0))
                peaks[pid] = (_role(pid, process.pid), max(peak, last_peak), max(anon, last_anon))
        try:  # returns as soon as the command exits: a sleep would add up to its length to the time
            process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    seconds = time.perf_counter() - clock
    errors = process.stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}: {errors[-3000:]}")
    [summary] = [json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")]
    return {"workers": workers, "seconds": seconds, "articles": summary["articles_written"],
            "articles_per_s": summary["articles_written"] / seconds, "stage_seconds": summary["stage_seconds"],
            "peak_rss_mb": sorted((role, round(kb / 1024)) for role, kb, _ in peaks.values()),
            "peak_anon_mb": sorted((role, round(kb / 1024)) for role, _, kb in peaks.values())}


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """``(peak RSS, anonymous RSS now)`` of a process. Peak RSS also counts the pages of library code a
    process has touched; anonymous memory is its data alone (sampled, so a peak shorter than the
    sampling interval can be missed)."""
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmHWM", "RssAnon"):
                fields[name] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return fields.get("VmHWM", 0), fields.get("RssAnon", 0)


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "launcher"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    if command.startswith("/bin/sh"):
        return "shell"  # the `sh -c` that starts each SDK worker
    return "sdk-worker" if "sdk_worker" in command else "child"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="folder of pages (default: test fixtures and demo samples)")
    parser.add_argument("--docs", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--repeat", type=int, default=3, metavar="K", help="alternated measurements per size")
    parser.add_argument("--json", type=Path, help="append the record to this JSON-lines file")
    parser.add_argument("--growth-only", action="store_true",
                        help="only the pipeline with 1 worker at each size: how time and peak memory grow with N")
    parser.add_argument("--config", type=Path, help="run config of newsbeam's runs (default configs/local.yaml)")
    parser.add_argument("--keep", action="store_true", help="keep each size's inputs and outputs (else removed)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    templates = template_files(args.corpus)
    record = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cores": os.cpu_count(),
              "corpus": str(args.corpus), "sizes": []}
    workdir = Path(tempfile.mkdtemp(prefix="newsbeam-throughput-"))
    try:
        if not args.growth_only:
            build_input(templates, 1, workdir / "one")
            startup = [measure_pairs(workdir / "one", workdir, a, _config(args)) for a in range(args.repeat)]
            record["startup"] = _median_seconds(startup)
            _print_startup(record["startup"])
        for docs in args.docs:
            record["sizes"].append(_measure_size(args, templates, docs, workdir / str(docs)))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    _print_growth(record["sizes"])
    if args.json:
        with open(args.json, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def _measure_size(args: argparse.Namespace, templates: list[Path], docs: int, workdir: Path) -> dict:
    """Every measure of one input size, printed as it is taken; the record of that size."""
    build_input(templates, docs, workdir / "captures")
    print(f"\n== {docs} captures from {len(templates)} templates; load average {_load()}")
    if args.growth_only:
        run = run_pipeline(workdir / "captures", workdir / "out", 1, _config(args))
        print(f"pipeline, 1 worker: {run['seconds']:.1f}s, {run['articles_per_s']:.2f} articles/s, "
              f"peak RSS MB {run['peak_rss_mb']}, anonymous {run['peak_anon_mb']}")
        return {"docs": docs, "pipeline": [run]}
    attempts = []
    for attempt in range(args.repeat):
        attempts.append(measure_pairs(workdir / "captures", workdir, attempt, _config(args)))
        print(f"  run {attempt + 1}/{args.repeat} (load average {_load()}): " + "; ".join(
            f"{name} {m['pipeline']:.1f}s / {m['loop']:.1f}s" for name, m in attempts[-1].items()))
    for name in attempts[0]:
        ratios = [a[name]["loop"] / a[name]["pipeline"] for a in attempts]
        pipeline = statistics.median(a[name]["pipeline"] for a in attempts)
        loop = statistics.median(a[name]["loop"] for a in attempts)
        print(f"{name}: {pipeline:.1f}s ({docs / pipeline:.1f}/s) / {loop:.1f}s ({docs / loop:.1f}/s); ratio "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}x   "
              f"peak RSS MB {attempts[-1][name]['peak_rss_mb']}   stages {attempts[-1][name]['stage_seconds']}")
    return {"docs": docs, "attempts": attempts}


def _config(args: argparse.Namespace) -> list[str]:
    return ["--config", str(args.config)] if args.config else []


def _median_seconds(attempts: list[dict]) -> dict:
    return {name: {side: statistics.median(a[name][side] for a in attempts) for side in ("pipeline", "loop")}
            for name in attempts[0]}


def _print_startup(startup: dict) -> None:
    print(f"start-up (one capture, median), load average {_load()}:")
    for name, seconds in startup.items():
        print(f"  {name}: {seconds['pipeline']:.2f}s / {seconds['loop']:.2f}s")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _print_growth(sizes: list[dict]) -> None:
    """How the 1-worker pipeline's time and peak memory grow from the smallest N (``--growth-only``)."""
    if len(sizes) < 2 or "pipeline" not in sizes[0]:
        return
    first = sizes[0]["pipeline"][0]
    first_peak, first_anon = (max(mb for _, mb in first[key]) for key in ("peak_rss_mb", "peak_anon_mb"))
    for size in sizes[1:]:
        run = size["pipeline"][0]
        peak, anon = (max(mb for _, mb in run[key]) for key in ("peak_rss_mb", "peak_anon_mb"))
        print(f"{sizes[0]['docs']} -> {size['docs']} captures, 1 worker: time {run['seconds'] / first['seconds']:.2f}x "
              f"for {size['docs'] / sizes[0]['docs']:.0f}x the captures ({first['articles_per_s']:.2f} -> "
              f"{run['articles_per_s']:.2f} articles/s); largest process peak RSS {first_peak} -> {peak} MB "
              f"({peak / first_peak:.2f}x), anonymous (data, sampled) {first_anon} -> {anon} MB "
              f"({anon / first_anon:.2f}x)")


if __name__ == "__main__":
    main()
