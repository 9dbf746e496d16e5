"""How `newsbeam run` scales from 1 to 2 local workers (DirectRunner multi-processing) on one input.

Builds N captures by repeating template pages with every URL made unique (so nothing deduplicates),
runs the real command once per worker count into separate outputs, and prints throughput, the
2-vs-1 ratio and the fixed start-up cost (the same command over one capture). Prints figures only.

    .venv/bin/python benchmarks/scaling.py --captures 400
    .venv/bin/python benchmarks/scaling.py --captures 400 --corpus path/to/html/pages
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Plain, one-capture-per-file templates; the demo's empty and non-HTML samples would only be rejected.
DEFAULT_TEMPLATES = [REPO / "tests" / "fixtures" / name
                     for name in ("seed_shaped.txt", "chip-plant.html", "sequia.html")]
DEFAULT_TEMPLATES += [REPO / "samples" / "captures" / name for name in
                      ("chip-plant.html", "cumbre-madrid.html", "harbour-talks.txt", "market-close.txt",
                       "rate-decision.txt")]
TEMPLATE_SUFFIXES = (".html", ".htm", ".txt", ".html.gz", ".htm.gz", ".txt.gz")
URL = re.compile(rb"https?://[^\s\"'<>()\\]+")


@dataclass(frozen=True)
class Timing:
    workers: int
    wall_seconds: float
    cpu_seconds: float  # user + system of the command and its worker processes
    captures: int
    articles: int

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.wall_seconds


def template_files(corpus: Path | None) -> list[Path]:
    """Capture files to repeat: the corpus folder's pages, else the test fixtures and demo samples."""
    if corpus is None:
        return DEFAULT_TEMPLATES
    found = sorted(p for p in corpus.rglob("*") if p.is_file() and p.name.lower().endswith(TEMPLATE_SUFFIXES))
    if not found:
        raise SystemExit(f"no {', '.join(TEMPLATE_SUFFIXES)} files under {corpus}")
    return found


def build_input(templates: list[Path], count: int, folder: Path) -> None:
    """``count`` capture files cycling through ``templates``; copy ``i`` gets ``-n{i}`` on every URL.

    Pages name themselves by their canonical URL and texts by their sidecar's ``url``, so both are made
    unique: the copies differ only where deduplication looks.
    """
    folder.mkdir(parents=True)
    for i in range(count):
        template = templates[i % len(templates)]
        data = template.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        name = template.name.removesuffix(".gz")
        stem, _, suffix = name.rpartition(".")
        target = folder / f"{i:06d}-{stem}.{suffix}"
        target.write_bytes(URL.sub(lambda match, i=i: match.group(0) + f"-n{i}".encode(), data))
        sidecar = template.with_name(f"{stem}.meta.json")
        meta = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        meta["url"] = f"{meta.get('url') or 'https://bench.example.com/' + stem}-n{i}"
        target.with_name(f"{target.stem}.meta.json").write_text(json.dumps(meta))


def run_newsbeam(captures: Path, output: Path, workers: int, extra: list[str]) -> Timing:
    """One ``newsbeam run`` in a fresh interpreter (start-up included, as a user sees it)."""
    command = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(captures), "--output", str(output),
               "--workers", str(workers), "--quiet", *extra]
    clock, cpu = time.monotonic(), _children_cpu_seconds()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall, cpu = time.monotonic() - clock, _children_cpu_seconds() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr[-4000:]}")
    [summary_path] = (output / "_runs").glob("*.json")
    summary = json.loads(summary_path.read_text())
    return Timing(workers, wall, cpu, summary["captures_read"], summary["articles_written"])


def _children_cpu_seconds() -> float:
    """CPU time of finished child processes, including the SDK workers they waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", "-n", type=int, default=400, help="captures in the input (default 400)")
    parser.add_argument("--corpus", type=Path, help="folder of .html/.txt(.gz) pages to repeat instead of the "
                                                    "test fixtures and demo samples")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--keep", action="store_true", help="keep the generated input and outputs")
    args, extra = parser.parse_known_args(argv)  # anything else goes to `newsbeam run`

    workdir = Path(tempfile.mkdtemp(prefix="newsbeam-scaling-"))
    templates = template_files(args.corpus)
    build_input(templates, args.captures, workdir / "captures")
    build_input(templates, 1, workdir / "one")
    print(f"input: {args.captures} captures from {len(templates)} templates in {workdir}")
    # Other work on the machine takes cores from the workers; CPU seconds show what the job itself used.
    print(f"{os.cpu_count()} cores, load average before the runs {os.getloadavg()[0]:.2f}")

    startup = {w: run_newsbeam(workdir / "one", workdir / f"out-one-{w}", w, extra) for w in args.workers}
    timings = [run_newsbeam(workdir / "captures", workdir / f"out-{w}", w, extra) for w in args.workers]

    print(f"{'workers':>7} {'start-up s':>10} {'wall s':>8} {'cpu s':>8} {'articles':>8} {'articles/s':>10} "
          f"{'net articles/s':>14}")
    net = {}
    for t in timings:
        net[t.workers] = t.articles / max(t.wall_seconds - startup[t.workers].wall_seconds, 1e-9)
        print(f"{t.workers:>7} {startup[t.workers].wall_seconds:>10.1f} {t.wall_seconds:>8.1f} {t.cpu_seconds:>8.1f} "
              f"{t.articles:>8} {t.articles_per_second:>10.2f} {net[t.workers]:>14.2f}")
    base = timings[0]
    for t in timings[1:]:
        print(f"ratio {t.workers} vs {base.workers} workers: {t.articles_per_second / base.articles_per_second:.2f}x "
              f"(net of start-up: {net[t.workers] / net[base.workers]:.2f}x)")
    if not args.keep:
        shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
