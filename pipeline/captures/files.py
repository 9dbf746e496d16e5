"""The entry point: open a capture file, un-gzip and sniff it, and hand it to the reader of its kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from apache_beam.io.filesystems import FileSystems

from pipeline.captures.jsonl import read_jsonl
from pipeline.captures.paths import local_path
from pipeline.captures.single import read_html_file, read_text_file
from pipeline.captures.sniff import sniff_kind
from pipeline.captures.source import ReadLimits, Source
from pipeline.captures.streams import (
    GZIP_MAGIC,
    FileDigest,
    Gunzip,
    Prefixed,
    RawFile,
    ReadFailure,
    Stream,
    open_file,
    read_head,
    read_up_to,
)
from pipeline.captures.warc import read_warc
from transforms.records import Capture, Rejection

READERS = {
    "warc": read_warc,
    "jsonl": read_jsonl,
    "html": read_html_file,
    "text": read_text_file,
}
MANY = frozenset({"warc", "jsonl"})  # the kinds whose files hold many captures, and can be cut into slices


def iter_captures(path: str, limits: ReadLimits, stat: tuple[int, float] | None = None,
                  digest: FileDigest | None = None,
                  skips: Callable[[int], bool] | None = None) -> Iterator[Capture | Rejection]:
    """Yield the captures in one file, and a Rejection for each record or file that cannot be read.

    ``path`` is the file's escaped form (``paths.file_uri``), which its captures' ``source_uri`` start
    with. ``stat`` is the file's ``(size, mtime seconds)`` when the caller listed it already (else it is
    looked up); a file found at another size or mtime at the end of the read changed under the reader.
    ``digest``, when given, hashes the file's bytes as they are read. ``skips``, when given, names the
    positions (``#line=``/``#offset=``) whose records are read past without being parsed. Never raises for bad input: a
    file-level failure found midway (truncated gzip, size cap) yields the captures read so far and then
    one Rejection.
    """
    try:
        yield from _iter_file(path, limits, stat, digest, skips)
    except ReadFailure as failure:
        yield Rejection(path, failure.reason, failure.detail, extra=dict(failure.extra))
    except OSError as error:
        yield Rejection(
            path, "unreadable", f"Could not read the file ({error.strerror or error}); it is read again by the "
            "next run.", extra={"error": type(error).__name__}
        )


def _iter_file(path: str, limits: ReadLimits, stat: tuple[int, float] | None,
               digest: FileDigest | None, skips: Callable[[int], bool] | None) -> Iterator[Capture | Rejection]:
    with _sniffed(path, limits, stat, digest) as (kind, body, source):
        yield from READERS[kind](body, replace(source, skips=skips))


def holds_many(path: str, limits: ReadLimits, stat: tuple[int, float] | None = None) -> bool:
    """True when the file is of a kind that holds many captures (WARC, JSONL): only its head is read."""
    try:
        with _sniffed(path, limits, stat, None) as (kind, _, _):
            return kind in MANY
    except (ReadFailure, OSError):
        return False  # its reader says why, as for any file


@contextmanager
def _sniffed(path: str, limits: ReadLimits, stat: tuple[int, float] | None,
             digest: FileDigest | None) -> Iterator[tuple[str, Stream, Source]]:
    """The file opened, un-gzipped and sniffed: its kind, its body (head included) and what readers need."""
    size, mtime = _from_seconds(*stat) if stat else _stat(local_path(path))
    if size is not None and size > limits.max_file_bytes:
        raise ReadFailure(
            "too_large",
            f"The file is {size} bytes, over max_file_bytes ({limits.max_file_bytes}).",
            size=size,
            limit=limits.max_file_bytes,
        )
    with open_file(local_path(path)) as handle:
        stream = RawFile(handle, limits.max_file_bytes, digest, stat)
        magic = read_up_to(stream, len(GZIP_MAGIC))
        stream = Prefixed(magic, stream)
        gunzip = Gunzip(stream, limits.max_decompressed_bytes) if magic == GZIP_MAGIC else None
        head, body = read_head(gunzip or stream, limits.sniff_bytes)
        if not head:
            raise ReadFailure("empty_file", "The file has no content.")
        kind = sniff_kind(head, path)
        if kind == "binary":
            raise ReadFailure(
                "binary_content",
                "The file holds binary data (NUL bytes without a UTF-16 or UTF-32 byte-order mark).",
            )
        yield kind, body, Source(path, limits, mtime, gunzip)


def _stat(path: str) -> tuple[int | None, datetime | None]:
    """Size and modification time, when the filesystem reports them."""
    matches = FileSystems.match([path])[0].metadata_list
    if not matches:
        return None, None
    return _from_seconds(matches[0].size_in_bytes, matches[0].last_updated_in_seconds)


def _from_seconds(size: int, seconds: float) -> tuple[int, datetime | None]:
    return size, datetime.fromtimestamp(seconds, tz=UTC) if seconds else None
