"""The same pages on the local engine, the local Flink cluster (parallelism 1 and 2) and the Spark cluster.

Prints articles/s and the start-up cost of each (the same command over one capture), so a user can see
from how many pages a cluster pays off. Needs `make engines-up`; an engine whose Beam job-server jar
`make engines` could not fetch is listed with the reason and not run. Prints figures only.

    .venv/bin/python benchmarks/engines.py --captures 1000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from scaling import REPO, build_input, run_newsbeam, template_files

JARS = REPO / ".engines" / "jars"
# name, the job-server jar it needs (None: none), `newsbeam run` arguments.
ENGINES = [
    ("local", None, []),
    ("flink p=1", "beam-runners-flink-1.20-job-server", ["--config", "configs/flink-local.yaml", "--parallelism=1"]),
    ("flink p=2", "beam-runners-flink-1.20-job-server", ["--config", "configs/flink-local.yaml", "--parallelism=2"]),
    ("spark", "beam-runners-spark-3-job-server", ["--config", "configs/spark-local.yaml"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", "-n", type=int, default=1000, help="captures in the input (default 1000)")
    parser.add_argument("--corpus", type=Path, help="folder of .html/.txt(.gz) pages to repeat instead of the "
                                                    "test fixtures and demo samples")
    parser.add_argument("--keep", action="store_true", help="keep the generated input and outputs")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="newsbeam-engines-"))
    templates = template_files(args.corpus)
    build_input(templates, args.captures, workdir / "captures")
    build_input(templates, 1, workdir / "one")
    print(f"input: {args.captures} captures from {len(templates)} templates in {workdir}")
    print(f"{os.cpu_count()} cores, load average before the runs {os.getloadavg()[0]:.2f}")
    print(f"{'engine':>10} {'start-up s':>10} {'wall s':>8} {'articles':>8} {'articles/s':>10} {'net articles/s':>14}")
    for index, (name, jar, extra) in enumerate(ENGINES):
        missing = JARS / f"{jar}.missing" if jar else None
        if missing is not None and missing.exists():
            print(f"{name:>10} not run: {missing.read_text().strip()}")
            continue
        startup = run_newsbeam(workdir / "one", workdir / f"out-one-{index}", 1, extra)
        run = run_newsbeam(workdir / "captures", workdir / f"out-{index}", 1, extra)
        net = run.articles / max(run.wall_seconds - startup.wall_seconds, 1e-9)
        print(f"{name:>10} {startup.wall_seconds:>10.1f} {run.wall_seconds:>8.1f} {run.articles:>8} "
              f"{run.articles_per_second:>10.2f} {net:>14.2f}")
    if not args.keep:
        shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
