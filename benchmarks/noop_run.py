"""How long a scheduled run takes when nothing is new: `newsbeam run` over N already-committed captures.

For each N it makes N small capture files, records them in the output's ledger exactly as a run
commits them (same schema, same writer), then times a real `newsbeam run` process, which lists the
inputs, reads the ledger, finds nothing to do and exits 99. The baseline is the same command over one
committed file, measured in the same invocation, so the figures read as ratios of the fixed start-up.

    python benchmarks/noop_run.py [--sizes 10000 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pipeline.cli.options import EXIT_NOTHING_TO_DO
from pipeline.output.ledger import list_inputs
from pipeline.output.schema import LEDGER_SCHEMA
from pipeline.output.sink import write_parquet_files

TEXT = "Main SliderWorld\n\nA headline\n\nBy Jane Doe\n\nCITY (Reuters) - Body text of capture {n}.\n"


def make_committed(root: Path, count: int) -> tuple[Path, Path]:
    """``count`` capture files under ``root/in`` (100 per folder) and an output whose ledger has them."""
    captures, output = root / "in", root / "out"
    for n in range(count):
        folder = captures / f"{n // 100:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"capture-{n}.txt").write_text(TEXT.format(n=n))
    now = datetime.now(UTC)
    rows = ({"path": f.path, "size": f.size, "mtime": f.mtime, "sha256": "0" * 64, "captures": 1, "articles": 1,
             "duplicates": 0, "rejected": 0, "skipped": 0, "run_id": "benchmark", "committed_at": now}
            for f in list_inputs([str(captures / "**")]))
    for _ in write_parquet_files(str(output / "_ledger"), rows, LEDGER_SCHEMA, "ledger-benchmark", 10_000_000):
        pass
    return captures, output


def time_run(captures: Path, output: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--input", str(captures),
                             "--output", str(output), "--quiet"], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != EXIT_NOTHING_TO_DO:
        raise SystemExit(f"expected exit {EXIT_NOTHING_TO_DO}, got {result.returncode}: {result.stderr[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workdir", type=Path, help="where to build the inputs (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    if args.workdir:
        measure(args, args.workdir)
        return
    with tempfile.TemporaryDirectory(prefix="newsbeam-noop-") as folder:
        measure(args, Path(folder))


def measure(args: argparse.Namespace, workdir: Path) -> None:
    """The no-op baseline, then a no-op run over each size of committed output built in ``workdir``."""
    figures = {"machine": f"{os.cpu_count()} cores", "date": datetime.now(UTC).date().isoformat(), "runs": []}
    baseline = time_run(*make_committed(workdir / "n1", 1))
    print(f"baseline: no-op run over 1 committed capture: {baseline:.2f}s")
    for size in args.sizes:
        built = time.perf_counter()
        captures, output = make_committed(workdir / f"n{size}", size)
        print(f"  built {size} captures and their ledger in {time.perf_counter() - built:.1f}s")
        seconds = time_run(captures, output)
        extra = seconds - baseline
        print(f"no-op run over {size:>7} committed captures: {seconds:6.2f}s  = {seconds / baseline:4.2f}x baseline "
              f"({extra:+.2f}s, {1e6 * max(extra, 0) / size:.0f} us per listed file)")
        figures["runs"].append({"captures": size, "seconds": round(seconds, 3), "ratio": round(seconds / baseline, 3)})
    figures["baseline_seconds"] = round(baseline, 3)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
