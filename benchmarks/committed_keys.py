"""What reading the committed keys costs as an output grows, with and without the key index.

Every chunk of every batch run reads the keys already committed (``pipeline/output/key_index.py``). This builds
outputs of N article files (real rows of a run over the bundled samples, copied with new keys, about 11
rows a file as a 10,000-capture backfill writes them), then measures in the same run:

1. every file read, the index off (how every chunk read them before the index);
2. the first indexed read: every file read, and the index written;
3. an indexed read: every key from the index;
4. an indexed read after a chunk of new files (1% more): the index plus those files.

It prints seconds per read and ratios against (1), a baseline measured twice (before and after) whose
mean is used. A benchmark, not a test: nothing here asserts a time.

    .venv/bin/python benchmarks/committed_keys.py --files 1000 10000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.cli import main as newsbeam  # noqa: E402
from pipeline.output.key_index import KeyIndexSettings, KeyReads, committed_rows  # noqa: E402
from pipeline.output.schema import ARTICLE_GLOB, ARTICLE_SCHEMA  # noqa: E402
from pipeline.output.sink import write_parquet_files  # noqa: E402

SECTIONS = ("world", "business", "politics", "technology")


def sample_rows(workdir: Path) -> list[dict]:
    """Article rows of a real run over ``samples/captures``."""
    output = workdir / "samples-out"
    code = newsbeam(["run", "--input", str(REPO / "samples" / "captures"), "--output", str(output), "--quiet",
                     "--entities", "off"])
    if code != 0:
        raise SystemExit(f"the sample run exited {code}")
    return [row for path in sorted(output.glob(ARTICLE_GLOB))
            for row in pq.read_table(path, schema=ARTICLE_SCHEMA).to_pylist()]


def add_files(output: Path, rows: list[dict], start: int, count: int, rows_per_file: int) -> None:
    """Files ``start`` .. ``start + count``, spread over dates and sections, each row with its own key."""
    for number in range(start, start + count):
        day = f"date=2024-{number % 12 + 1:02d}-{number % 28 + 1:02d}"
        partition = output / day / f"section={SECTIONS[number % 4]}"
        copies = [{**rows[(number + i) % len(rows)], "article_id": f"{number:08d}-{i}",
                   "source_uri": f"file:///captures/{number:08d}-{i}.html"} for i in range(rows_per_file)]
        list(write_parquet_files(str(partition), copies, ARTICLE_SCHEMA, f"bench-{number:08d}", 10**6))


def timed_read(output: Path, settings: KeyIndexSettings) -> tuple[float, KeyReads, int]:
    reads = KeyReads()
    clock = time.perf_counter()
    rows = sum(1 for _ in committed_rows(str(output), ARTICLE_GLOB, "article_id", settings, reads))
    return time.perf_counter() - clock, reads, rows


def measure(workdir: Path, rows: list[dict], files: int, rows_per_file: int) -> None:
    output = workdir / f"out-{files}"
    add_files(output, rows, 0, files, rows_per_file)
    off, eager = KeyIndexSettings(enabled=False), KeyIndexSettings(settle_seconds=0)
    timed_read(output, off)  # the page cache warmed for every case alike
    before = timed_read(output, off)
    first = timed_read(output, eager)
    indexed = timed_read(output, eager)
    after = timed_read(output, off)
    add_files(output, rows, files, max(1, files // 100), rows_per_file)
    grown = timed_read(output, eager)
    baseline = statistics.mean([before[0], after[0]])
    print(f"\n== {files} committed files, {before[2]} rows (baseline: every file read, index off)")
    print(f"  every file read            {baseline:7.3f} s   (before {before[0]:.3f}, after {after[0]:.3f})")
    for label, (seconds, reads, count) in (("first read, index written", first), ("from the index", indexed),
                                           (f"index + {grown[1].read} new files", grown)):
        print(f"  {label:<27}{seconds:7.3f} s   {seconds / baseline:5.2f}x baseline   "
              f"({reads.indexed} files from the index, {reads.read} read, {count} rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, nargs="+", default=[1000, 10000],
                        help="committed files (default 1000 10000)")
    parser.add_argument("--rows-per-file", type=int, default=11, help="rows per file (default 11)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsbeam-keys-") as folder:
        workdir = Path(folder)
        rows = sample_rows(workdir)
        for files in args.files:
            measure(workdir, rows, files, args.rows_per_file)


if __name__ == "__main__":
    main()
