"""Latency of the local streaming job: from a capture landing in the inbox to its row visible in DuckDB.

Starts `newsbeam stream` on an empty inbox, drops `--files` captures at `--rate` per second (each page's
``.meta.json`` sidecar first, then the page written under a .part name and renamed: the drop convention,
so no page waits for its sidecar), polls DuckDB for each one's row, then
stops the job with SIGTERM. Prints p50/p95/max latency and the sustained captures/s. The baseline,
measured in the same invocation, is a one-file `newsbeam run` from process start to exit: the cost of
one batch with nothing else going on.

    python benchmarks/stream_latency.py [--files 40] [--rate 2] [--interval 2s] [--entities on]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

PAGE = Path(__file__).resolve().parent.parent / "samples" / "captures" / "chip-plant.html"


def capture(n: int) -> str:
    return PAGE.read_text().replace("chipmaker-ohio-plant", f"chipmaker-ohio-plant-{n}").replace(
        "3,000 jobs", f"{3000 + n} jobs")


def visible_urls(output: Path) -> set[str]:
    if not list(output.glob("date=*/section=*/*.parquet")):
        return set()
    query = f"select url from read_parquet('{output}/date=*/section=*/*.parquet', hive_partitioning=true)"
    return {url for (url,) in duckdb.sql(query).fetchall()}


def baseline(workdir: Path, entities: str) -> float:
    inbox = workdir / "baseline-in"
    inbox.mkdir()
    (inbox / "one.html").write_text(capture(-1))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--input", str(inbox), "--output",
                    str(workdir / "baseline-out"), "--quiet", "--entities", entities], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--rate", type=float, default=2.0, help="captures dropped per second")
    parser.add_argument("--interval", default="2s", help="the stream job's --interval")
    parser.add_argument("--entities", choices=("on", "off"), default="on")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsbeam-latency-") as folder:
        measure(args, Path(folder))


def measure(args: argparse.Namespace, workdir: Path) -> None:
    """The baseline, then the stream job's latencies over ``args.files`` captures dropped into its inbox."""
    one_batch = baseline(workdir, args.entities)
    inbox, output = workdir / "inbox", workdir / "out"
    inbox.mkdir()
    job = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "stream", "--watch", str(inbox), "--output",
                            str(output), "--interval", args.interval, "--entities", args.entities, "--quiet"])
    time.sleep(3)  # let the job start and find the inbox empty
    landed: dict[str, float] = {}
    seen: dict[str, float] = {}
    started = time.perf_counter()
    next_drop, n = started, 0
    while len(seen) < args.files:
        now = time.perf_counter()
        if n < args.files and now >= next_drop:
            url = f"https://tribune.example.com/technology/2024/05/14/chipmaker-ohio-plant-{n}"
            (inbox / f"capture-{n:04d}.meta.json").write_text(json.dumps({"url": url}))
            partial = inbox / f"capture-{n:04d}.html.part"
            partial.write_text(capture(n))
            partial.rename(inbox / f"capture-{n:04d}.html")
            landed[url] = time.perf_counter()
            n, next_drop = n + 1, next_drop + 1 / args.rate
        for url in visible_urls(output) - seen.keys():
            seen[url] = time.perf_counter()
        if now - started > 600:
            raise SystemExit("gave up after 10 minutes")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    job.send_signal(signal.SIGTERM)
    job.wait(timeout=120)
    latencies = sorted(seen[url] - landed[url] for url in landed)
    p50 = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    figures = {"files": args.files, "rate": args.rate, "interval": args.interval, "entities": args.entities,
               "baseline_one_file_run_s": round(one_batch, 2), "p50_s": round(p50, 2), "p95_s": round(p95, 2),
               "max_s": round(latencies[-1], 2), "captures_per_s": round(args.files / elapsed, 2)}
    print(f"baseline: one-file `newsbeam run`, start to exit: {one_batch:.2f}s")
    print(f"stream --interval {args.interval}, {args.files} captures dropped at {args.rate}/s, "
          f"entities {args.entities}:")
    print(f"  landing -> visible in DuckDB: p50 {p50:.2f}s ({p50 / one_batch:.2f}x baseline), "
          f"p95 {p95:.2f}s ({p95 / one_batch:.2f}x), max {latencies[-1]:.2f}s")
    print(f"  sustained: {args.files / elapsed:.2f} captures/s over {elapsed:.1f}s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
