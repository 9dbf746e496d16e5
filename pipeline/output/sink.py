"""Atomic Parquet files under the output folder.

A file is written under a hidden name that no reader's glob matches (it does not end in ``.parquet``)
and renamed into place only once complete: a killed run leaves no half-written file that DuckDB reads.
A write that fails (a full disk) deletes its hidden file and raises an error naming the file.
Writers take a ``fence``: called just before each file is put in place, it raises when this run may no
longer commit (its output lock was taken over, see ``pipeline.output.lock.Fence``), and the file is not put there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import NoReturn

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.filesystems import FileSystems

from pipeline.output.schema import row_keys

ROW_GROUP_ROWS = 2000
IN_PROGRESS_SUFFIX = ".inprogress"


def join(*parts: str) -> str:
    return FileSystems.join(*parts)


def write_parquet_files(
    directory: str, rows: Iterable[dict], schema: pa.Schema, file_prefix: str,
    max_rows_per_file: int, compression: str = "zstd", fence: Callable[[], None] | None = None,
) -> Iterator[tuple[str, int]]:
    """Write ``rows`` into one or more Parquet files in ``directory``; yield ``(path, row_count)`` each.

    Rows are streamed in row groups, so memory stays bounded whatever the partition's size.
    """
    _ensure_directory(directory)
    batch: list[dict] = []
    writer: _AtomicParquet | None = None
    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= ROW_GROUP_ROWS or (writer and writer.rows + len(batch) >= max_rows_per_file):
                writer = writer or _AtomicParquet(directory, file_prefix, schema, compression)
                writer.write(batch)
                batch = []
                if writer.rows >= max_rows_per_file:
                    yield writer.commit(fence)
                    writer = None
        if batch:
            writer = writer or _AtomicParquet(directory, file_prefix, schema, compression)
            writer.write(batch)
        if writer and writer.rows:
            yield writer.commit(fence)
    except BaseException as error:
        if writer is None:
            raise
        writer.abort()
        _remove_if_empty(directory)
        _reraise_naming(error, writer.final_path)


class _AtomicParquet:
    """One Parquet file being written under an in-progress name."""

    def __init__(self, directory: str, prefix: str, schema: pa.Schema, compression: str):
        name = f"{prefix}-{uuid.uuid4().hex[:12]}.parquet"
        self.final_path = join(directory, name)
        self.temp_path = join(directory, f".{name}{IN_PROGRESS_SUFFIX}")
        self.schema = schema
        self.rows = 0
        self.committed = False
        self._writer = None
        self._handle = FileSystems.create(self.temp_path, compression_type=CompressionTypes.UNCOMPRESSED)
        try:
            self._writer = pq.ParquetWriter(pa.PythonFile(self._handle, mode="w"), schema, compression=compression)
        except BaseException as error:
            self.abort()
            _reraise_naming(error, self.final_path)

    def write(self, rows: list[dict]) -> None:
        self._writer.write_table(_table(rows, self.schema))
        self.rows += len(rows)

    def commit(self, fence: Callable[[], None] | None = None) -> tuple[str, int]:
        self._writer.close()
        self._handle.close()
        if fence:
            fence()
        FileSystems.rename([self.temp_path], [self.final_path])
        self.committed = True
        return self.final_path, self.rows

    def abort(self) -> None:
        """Close and delete the unfinished file; closing writes a footer, which fails again on a full disk."""
        if self.committed:
            return
        closers = [self._writer.close] if self._writer else []
        for close in [*closers, self._handle.close]:
            with suppress(Exception):
                close()
        _delete_quietly(self.temp_path)


def read_parquet(path: str, columns: list[str] | None = None, dictionary: list[str] | None = None) -> pa.Table:
    """One Parquet file on any filesystem Beam knows, as a table (all columns, or ``columns``); the
    ``dictionary`` columns stay dictionary-encoded (each distinct value held once).

    ``ParquetFile.read`` skips the dataset layer that ``pq.read_table`` goes through, which on small files
    costs more than the read itself.
    """
    with open_parquet(path, dictionary) as parquet:
        return parquet.read(columns=columns)


@contextmanager
def open_parquet(path: str, dictionary: list[str] | None = None) -> Iterator[pq.ParquetFile]:
    """One Parquet file on any filesystem Beam knows, open to read some of its row groups or columns."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        yield pq.ParquetFile(handle, read_dictionary=dictionary)


def replace_parquet_file(path: str, rows: list[dict], schema: pa.Schema, compression: str = "zstd",
                         fence: Callable[[], None] | None = None) -> None:
    """Atomically replace the file at ``path`` by one holding ``rows`` (remove it when there are none)."""
    if not rows:
        if fence:
            fence()
        FileSystems.delete([path])
        return
    with _written_aside(path, f".rewrite{IN_PROGRESS_SUFFIX}", fence) as handle:
        pq.write_table(_table(rows, schema), pa.PythonFile(handle, mode="w"),
                       compression=compression, row_group_size=ROW_GROUP_ROWS)


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """``rows`` as a table of ``schema``; a key it has no column for is an error, not silently dropped."""
    allowed = row_keys(schema)
    for row in rows:
        if unknown := row.keys() - allowed:
            raise ValueError(f"row of {row.get('source_uri') or row.get('path')} has keys the schema does not "
                             f"define: {', '.join(sorted(unknown))}")
    return pa.Table.from_pylist(rows, schema=schema)


def matching_files(pattern: str) -> list[str]:
    """Paths matching ``pattern``, skipping hidden names (in-progress files, editor droppings)."""
    return [meta.path for meta in matching_metadata(pattern)]


def matching_metadata(pattern: str) -> list[FileMetadata]:
    """Path, size and modification time of the files matching ``pattern``, sorted by path, hidden names
    skipped."""
    result = FileSystems.match([pattern])[0]
    return sorted((m for m in result.metadata_list if not m.path.rsplit("/", 1)[-1].startswith(".")),
                  key=lambda m: m.path)


def write_text_atomically(path: str, text: str) -> None:
    """Write a small text file (a run summary) so that readers see it whole or not at all."""
    _ensure_directory(path.rsplit("/", 1)[0])
    with _written_aside(path, IN_PROGRESS_SUFFIX) as handle:
        handle.write(text.encode("utf-8"))


@contextmanager
def _written_aside(path: str, suffix: str, fence: Callable[[], None] | None = None) -> Iterator:
    """A handle on a hidden file beside ``path`` that replaces ``path`` when complete, and is deleted on failure."""
    directory, name = path.rsplit("/", 1)
    temp = join(directory, f".{name}{suffix}")
    try:
        with FileSystems.create(temp, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            yield handle
        if fence:
            fence()
        FileSystems.rename([temp], [path])
    except BaseException as error:
        _delete_quietly(temp)
        _reraise_naming(error, path)


def _reraise_naming(error: BaseException, path: str) -> NoReturn:
    """Raise ``error`` again; an OS error that names no file (a failed ``write()``) as one naming ``path``."""
    if isinstance(error, OSError) and error.errno is not None and not error.filename:
        raise OSError(error.errno, error.strerror or str(error), path) from error
    raise error


def _delete_quietly(path: str) -> None:
    with suppress(OSError):
        FileSystems.delete([path])


def _remove_if_empty(directory: str) -> None:
    """Remove the local folders (``section=``, then ``date=``) a failed write leaves empty; stores have none."""
    if "://" not in directory:
        with suppress(OSError):
            os.rmdir(directory)
            os.rmdir(os.path.dirname(directory))


def _ensure_directory(directory: str) -> None:
    if not FileSystems.exists(directory):
        try:
            FileSystems.mkdirs(directory)
        except OSError:
            if not FileSystems.exists(directory):  # another worker made it first otherwise
                raise
