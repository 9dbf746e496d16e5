"""Peak memory of a whole `newsbeam run` over one large capture file: does it grow with the captures in it?

Writes one JSONL file per size (and a per-record gzipped WARC per size), runs `newsbeam run` over each in
a fresh output with the project's configs (``run.captures_per_pipeline`` cuts a large file into parts),
and samples the resident memory of the run's whole process tree (the launcher and any SDK worker
processes) every ``--interval`` seconds. Prints each run's peak and its ratio to the first JSONL size
of the same invocation. Entities are off (``--entities off``) unless ``--entities on``: NER adds a fixed
model and costs hours at these sizes.

    .venv/bin/python benchmarks/run_memory.py
    .venv/bin/python benchmarks/run_memory.py --jsonl-lines 1000 10000 --warc-records 10000 --workers 2
    .venv/bin/python benchmarks/run_memory.py --jsonl-lines 1000 10000 --warc-records --captures-per-pipeline 0
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_memory import write_jsonl, write_warc  # noqa: E402 - the read benchmark's files, same shape

REPO = Path(__file__).resolve().parent.parent


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, in MB (from /proc, following each process's
    ``children`` lists rather than reading every process on the machine)."""
    page, total, stack = os.sysconf("SC_PAGE_SIZE"), 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * page
            for task in os.scandir(f"/proc/{pid}/task"):
                with open(f"{task.path}/children") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except OSError:  # the process ended meanwhile
            continue
    return total / 2**20


def configs_with(folder: Path, captures_per_pipeline: int) -> Path:
    """A copy of the project's configs with ``run.captures_per_pipeline`` set; its ``local.yaml``."""
    shutil.copytree(REPO / "configs", folder)
    settings = yaml.safe_load((folder / "local.yaml").read_text())
    settings["run"]["captures_per_pipeline"] = captures_per_pipeline
    (folder / "local.yaml").write_text(yaml.safe_dump(settings))
    return folder / "local.yaml"


def peak_run(path: Path, output: Path, args: argparse.Namespace, config: Path | None) -> tuple[float, float, dict]:
    """(peak RSS of the run's process tree in MB, wall seconds, run summary) of one `newsbeam run`."""
    command = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(path), "--output", str(output),
               "--quiet", "--entities", args.entities, "--workers", str(args.workers),
               *(["--config", str(config)] if config else [])]
    started, peak = time.monotonic(), 0.0
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    reported = started
    while process.poll() is None:
        now_mb = tree_rss_mb(process.pid)
        peak = max(peak, now_mb)
        if time.monotonic() - reported >= args.report_every:  # a long run shows how its memory moves
            reported = time.monotonic()
            print(f"  {path.name}: {reported - started:,.0f} s, RSS {now_mb:,.0f} MB, peak so far {peak:,.0f} MB",
                  file=sys.stderr, flush=True)
        time.sleep(args.interval)
    errors = process.stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"newsbeam run over {path} exited {process.returncode}:\n{errors[-2000:]}")
    summary = json.loads(next((output / "_runs").glob("*.json")).read_text())
    return peak, time.monotonic() - started, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jsonl-lines", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--warc-records", type=int, nargs="*", default=[100_000])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--entities", choices=("on", "off"), default="off")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between memory samples")
    parser.add_argument("--report-every", type=float, default=300, metavar="SECONDS",
                        help="print the memory of a running run this often, on stderr")
    parser.add_argument("--captures-per-pipeline", type=int, metavar="N",
                        help="run.captures_per_pipeline for every run (default: the project's configs; 0 cuts "
                             "no file, for a comparison)")
    args = parser.parse_args()
    runs, baseline = [], None
    with tempfile.TemporaryDirectory() as folder:
        config = (None if args.captures_per_pipeline is None
                  else configs_with(Path(folder) / "configs", args.captures_per_pipeline))
        cases = [("jsonl", n, write_jsonl) for n in args.jsonl_lines]
        cases += [("warc.gz", n, write_warc) for n in args.warc_records]
        for kind, size, write in cases:
            path = Path(folder) / f"{size}.{kind}"
            write(path, size)
            peak, seconds, summary = peak_run(path, Path(folder) / f"out-{size}-{kind}", args, config)
            baseline = baseline or peak
            print(f"{kind:8} {size:>9,} captures ({path.stat().st_size / 2**20:,.0f} MB): "
                  f"{summary['articles_written']:,} articles in {seconds:,.0f} s, peak RSS {peak:,.0f} MB, "
                  f"{peak / baseline:.2f}x the {args.jsonl_lines[0]:,}-line run", flush=True)
            runs.append({"kind": kind, "captures": size, "peak_mb": round(peak), "seconds": round(seconds),
                         "articles": summary["articles_written"], "ratio": round(peak / baseline, 3)})
            path.unlink()
    print(json.dumps({"benchmark": "run_memory", "workers": args.workers, "entities": args.entities,
                      "captures_per_pipeline": args.captures_per_pipeline, "runs": runs}))


if __name__ == "__main__":
    main()
