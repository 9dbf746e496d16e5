"""The keys of committed files, read through an index so a run need not open every file written before.

Every chunk of every run joins its new rows against the keys already committed (``article_id``,
``rejection_id``). Opening each committed Parquet file for two columns costs about 0.4 ms a file, so
without an index that cost grows with the output: a scheduled run over years of partitions pays it on
every chunk.

The index is a cache, never the truth. ``_keys/<column>/*.parquet`` holds ``(file, size, mtime, key,
source_uri)`` rows, one set per data file; an entry is used only while the listed file still has that
size and modification time, and every other file is read itself. Rewrites (superseded rows, withdrawn
rejections, ``newsbeam compact``) change size and time, so their stale entries are simply not used. Files
read directly are indexed for next time once their modification time is ``settle_seconds`` old, so a
rewrite cannot reuse the time on a store whose clock ticks in whole seconds (a store that reports no time
is never indexed). Index files hold about ``INDEX_FILE_ROWS`` entries at most, a data file's entries never
split between two; once ``merge_after`` smaller ones have gathered, they are merged, keeping only the
entries still valid.

Index files are written like data files (hidden until complete) and live under ``_keys/``, which no
reader's glob matches. Deleting ``_keys/`` is always safe: the next run reads the files again.
"""

from __future__ import annotations

import logging
import time
import uuid
from array import array
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import NamedTuple

import pyarrow as pa
from apache_beam.io.filesystem import BeamIOError, FileMetadata
from apache_beam.io.filesystems import FileSystems

from pipeline.output.schema import KEY_INDEX_SCHEMA
from pipeline.output.sink import join, matching_metadata, read_parquet, write_parquet_files
from transforms.records import capture_position

KEY_INDEX_DIR = "_keys"
# Each chunk of a run reads every index file whole, one at a time, so the rows of one file bound that
# step's memory (a 20,000-row file: 8-9 MB above the reader). Index files of any size are read.
INDEX_FILE_ROWS = 20_000
_BATCH_ROWS = 4_096  # rows turned into Python objects at once (about 2 MB)
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyIndexSettings:
    """``output.key_index`` of the run config (see ``configs/local.yaml``)."""

    enabled: bool = True
    settle_seconds: float = 10.0
    merge_after: int = 16

    @classmethod
    def from_config(cls, cfg: dict) -> KeyIndexSettings:
        """From a loaded run config; defaults where it has no ``output.key_index``."""
        return cls(**cfg.get("output", {}).get("key_index", {}))


@dataclass
class KeyReads:
    """How the committed files' keys were found: from the index, or by reading the file."""

    indexed: int = 0
    read: int = 0


class CommittedRow(NamedTuple):
    """One committed row as the joins see it: its key (``column``), the file holding it, its capture."""

    key: str
    file: str
    source_uri: str


def committed_positions(output: str, glob: str, column: str, settings: KeyIndexSettings,
                        files: set[str]) -> dict[str, array]:
    """The sorted ``#line=``/``#offset=`` positions of the committed rows (under ``glob``) of captures in
    ``files``, per file: 8 bytes a row, whatever the output holds besides."""
    found: dict[str, array] = {}
    for row in committed_rows(output, glob, column, settings):
        position = capture_position(row.source_uri)
        path = row.source_uri.rpartition("#")[0]
        if position is not None and path in files:
            found.setdefault(path, array("q")).append(position)
    return {path: array("q", sorted(positions)) for path, positions in found.items()}


def committed_rows(output: str, glob: str, column: str, settings: KeyIndexSettings,
                   reads: KeyReads | None = None) -> Iterator[CommittedRow]:
    """A ``CommittedRow`` for every row of the committed files matching ``glob`` under ``output``."""
    reads = reads if reads is not None else KeyReads()
    listed = {_relative(output, meta.path): meta for meta in matching_metadata(join(output, glob))}
    folder = join(output, KEY_INDEX_DIR, column)
    index_files = _index_files(folder) if settings.enabled else []
    served: dict[str, str] = {}
    small: list[str] = []  # index files below INDEX_FILE_ROWS: merged once there are merge_after of them
    for index_path in index_files:
        for rel, key, source_uri in _valid_entries(index_path, listed, served, small):
            yield CommittedRow(key, listed[rel].path, source_uri)
    reads.indexed = len(served)
    settled_before = time.time() - settings.settle_seconds
    fresh: list[dict] = []
    for rel, meta in sorted(listed.items()):
        if rel in served:
            continue
        table = read_parquet(meta.path, [column, "source_uri"])
        reads.read += 1
        keys, uris = table.column(column).to_pylist(), table.column("source_uri").to_pylist()
        yield from map(CommittedRow, keys, [meta.path] * len(keys), uris)
        if settings.enabled and rel != meta.path and 0 < (meta.last_updated_in_seconds or 0) <= settled_before:
            fresh.extend(_entry(rel, meta, key, uri) for key, uri in zip(keys, uris, strict=True))
        if len(fresh) >= INDEX_FILE_ROWS:  # memory holds one index file's entries, however large the output
            small.extend(_write_index_quietly(folder, fresh))
            fresh = []
    small.extend(_write_index_quietly(folder, fresh))
    if len(small) >= max(2, settings.merge_after):
        _merge(folder, small, listed)


def _entry(rel: str, meta: FileMetadata, key: str, source_uri: str) -> dict:
    """One index row (``KEY_INDEX_SCHEMA``): a key of the data file ``rel`` as it is listed now."""
    return {"file": rel, "size": meta.size_in_bytes, "mtime": meta.last_updated_in_seconds, "key": key,
            "source_uri": source_uri}


def _relative(output: str, path: str) -> str:
    """``path`` below ``output``, as the index names it (moving the output folder keeps the index); the
    path itself when the store lists it otherwise (such a file is read every time, never indexed)."""
    prefix = output.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def _index_files(folder: str) -> list[str]:
    return [meta.path for meta in matching_metadata(join(folder, "*.parquet"))]


def _valid_entries(index_path: str, listed: dict[str, FileMetadata], served: dict[str, str],
                   small: list[str]) -> Iterator[tuple[str, str, str]]:
    """``(file, key, source_uri)`` of the entries in ``index_path`` that still describe their listed file,
    for files no earlier index file served (each file's keys come from one index file, whole). An index
    file of fewer than ``INDEX_FILE_ROWS`` rows is added to ``small``.

    The index file is read whole before any entry is used: one that cannot be read (merged away since it
    was listed, damaged) serves nothing, and its files are read directly.
    """
    try:
        table = read_parquet(index_path, KEY_INDEX_SCHEMA.names, dictionary=["file"])  # a few files, many keys
    except (OSError, BeamIOError, pa.ArrowException) as error:
        LOG.warning("key index %s not used (%s); the files it covers are read instead", index_path, error)
        return
    if table.num_rows < INDEX_FILE_ROWS:
        small.append(index_path)
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        columns = (_python(batch.column(name)) for name in KEY_INDEX_SCHEMA.names)
        for rel, size, mtime, key, source_uri in zip(*columns, strict=True):
            meta = listed.get(rel)
            if (meta is not None and meta.size_in_bytes == size and meta.last_updated_in_seconds == mtime
                    and served.setdefault(rel, index_path) == index_path):
                yield rel, key, source_uri


def _python(column: pa.Array) -> list:
    """A column's values as Python objects; a dictionary column's distinct values are converted once
    (``to_pylist`` on it converts every row: 4x slower over the whole read)."""
    if pa.types.is_dictionary(column.type):
        values = column.dictionary.to_pylist()
        return [values[index] for index in column.indices.to_pylist()]
    return column.to_pylist()


def _write_index(folder: str, rows: Iterable[dict]) -> list[str]:
    """Index files of ``rows`` (each data file's entries in a row), cut after ``INDEX_FILE_ROWS`` rows but
    only between data files: a file's keys must come whole from one index file. The paths of those left
    smaller than the limit."""
    rows = iter(rows)
    head = next(rows, None)
    small: list[str] = []

    def part() -> Iterator[dict]:
        nonlocal head
        taken = 0
        while head is not None:
            yield head
            taken, current, head = taken + 1, head["file"], next(rows, None)
            if taken >= INDEX_FILE_ROWS and (head is None or head["file"] != current):
                return

    while head is not None:
        prefix = f"keys-{uuid.uuid4().hex[:8]}"
        small += [path for path, count in write_parquet_files(folder, part(), KEY_INDEX_SCHEMA, prefix, 2**62)
                  if count < INDEX_FILE_ROWS]
    return small


def _write_index_quietly(folder: str, rows: Iterable[dict]) -> list[str]:
    """``_write_index``, but an index that cannot be written (a full disk, a read-only output) only costs
    the next read those files: the run goes on."""
    try:
        return _write_index(folder, rows)
    except (OSError, BeamIOError) as error:
        LOG.warning("key index %s not written (%s); its files are read again next time", folder, error)
        return []


def _merge(folder: str, small: list[str], listed: dict[str, FileMetadata]) -> None:
    """The small index files merged into as few as hold their entries still valid; the merged files are
    deleted once those are committed (a reader that listed them meanwhile reads their files directly)."""
    served: dict[str, str] = {}

    def entries() -> Iterator[dict]:
        for index_path in small:
            for rel, key, source_uri in _valid_entries(index_path, listed, served, []):
                yield _entry(rel, listed[rel], key, source_uri)

    try:
        _write_index(folder, entries())
    except (OSError, BeamIOError) as error:  # the small files stay, and serve as before
        LOG.warning("key index %s not merged (%s)", folder, error)
        return
    for path in small:
        with suppress(OSError, BeamIOError):
            FileSystems.delete([path])
