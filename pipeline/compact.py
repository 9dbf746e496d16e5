"""``newsbeam compact``: merge each partition's small files into one, atomically.

Streaming leaves many small files. A partition folder is compacted by writing its rows into one file in
a hidden sibling folder and then exchanging the two folders in one ``renameat2(RENAME_EXCHANGE)``
call: a reader lists either the old files or the new one, never both and never neither. (A query that
listed the old files and opens them after the exchange gets a "file not found" error, never a wrong
count.) Needs Linux's renameat2; elsewhere compaction refuses rather than risk a torn view.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import sys
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.lock import LockHeld, OutputLock
from pipeline.options import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE
from pipeline.schema import ARTICLE_SCHEMA

_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("compact", help="merge each partition's small Parquet files into one",
                                 description=__doc__.split("\n\n")[1])
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="the output folder")
    parser.add_argument("--partition", action="append", metavar="date=YYYY-MM-DD[/section=SLUG]",
                        help="only these partitions (repeatable); default every partition with 2+ files")
    parser.add_argument("--min-files", type=int, default=2, metavar="N",
                        help="compact a partition only when it holds at least N files (default 2)")
    parser.add_argument("--wait", action="store_true", help="wait for a running job's lock instead of exiting")
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.set_defaults(handler=compact_command)


def exchange(first: Path, second: Path) -> None:
    """Swap two paths in one atomic step (Linux renameat2 with RENAME_EXCHANGE)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        raise OSError("atomic compaction needs renameat2 (Linux, glibc 2.28 or newer)")
    if libc.renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"cannot exchange {first} and {second}: {os.strerror(error)}")


def partitions(output: Path, selected: list[str] | None, min_files: int) -> list[Path]:
    """Partition folders to compact: the selected ones (or all), holding at least ``min_files`` files."""
    folders = sorted(output.glob("date=*/section=*"))
    if selected:
        folders = [f for f in folders if any(str(f.relative_to(output)).startswith(s.strip("/")) for s in selected)]
    return [f for f in folders if f.is_dir() and len(_data_files(f)) >= min_files]


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))


def compact_partition(folder: Path, compression: str = "zstd") -> tuple[int, int]:
    """Replace ``folder``'s files by one file with the same rows; return ``(files before, rows)``."""
    files = _data_files(folder)
    staging = folder.parent / f".compact-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    target = staging / f"part-compacted-{uuid.uuid4().hex[:12]}.parquet"
    rows = 0
    with pq.ParquetWriter(target, ARTICLE_SCHEMA, compression=compression) as writer:
        for path in files:
            table = pq.read_table(path, schema=ARTICLE_SCHEMA)
            writer.write_table(table)
            rows += table.num_rows
    exchange(folder, staging)
    shutil.rmtree(staging)
    return len(files), rows


def compact_command(args: argparse.Namespace, _extra: list[str]) -> int:
    output = Path(args.output).resolve()
    if not output.is_dir():
        print(f"newsbeam: no output folder at {output}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with OutputLock(str(output), f"compact-{uuid.uuid4().hex[:6]}", wait=args.wait):
            for folder in partitions(output, args.partition, args.min_files):
                before, rows = compact_partition(folder)
                if not args.quiet:
                    print(f"{folder.relative_to(output)}: {before} files -> 1 ({rows} rows)")
    except LockHeld as held:
        print(f"newsbeam: {held}", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as error:
        print(f"newsbeam: compaction failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
