"""Compaction (``newsbeam compact``): merge each partition's small files into one, atomically.

Streaming leaves many small files. A partition folder is compacted by writing its rows into one file in
a hidden sibling folder and then exchanging the two folders in one ``renameat2(RENAME_EXCHANGE)``
call: a reader lists either the old files or the new one, never both and never neither. (A query that
listed the old files and opens them after the exchange gets a "file not found" error, never a wrong
count.) Needs Linux's renameat2; elsewhere compaction refuses rather than risk a torn view.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.output.schema import ARTICLE_SCHEMA

_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


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

