"""Byte streams of a capture file: size caps, multi-member gzip, and putting sniffed bytes back.

A whole-file problem met while streaming (a size cap, a truncated or damaged gzip) raises ReadFailure,
which the entry point turns into exactly one Rejection after the records read so far.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zlib
from typing import BinaryIO

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

CHUNK = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"
# Whole-file failures that say nothing about the file's content (it could not be opened, or it changed while
# it was read): the file is not committed to the ledger, so the next run reads it again.
RETRIED = frozenset({"unreadable", "changed_during_read"})
_AGAIN = "it is read again by the next run"


class ReadFailure(Exception):
    """A whole-file problem found while streaming; turned into exactly one Rejection."""

    def __init__(self, reason: str, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.extra = extra


class Stream(io.RawIOBase):
    """Readable stream built from `_read(size)`; `tell()` counts bytes handed out (warcio needs it)."""

    def __init__(self) -> None:
        super().__init__()
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def _read(self, size: int) -> bytes:
        raise NotImplementedError


class FileDigest:
    """The sha256 of a file's bytes, taken while a reader streams them, so the file is read once.

    ``hexdigest`` is None unless the reader went to the end of the file: one that stops early (a damaged
    record, a size cap) leaves it unfinished, and the caller hashes the file itself.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._complete = False

    def update(self, data: bytes) -> None:
        """Add the next bytes read; an empty read is the end of the file."""
        if data:
            self._hash.update(data)
        else:
            self._complete = True

    @property
    def hexdigest(self) -> str | None:
        return self._hash.hexdigest() if self._complete else None


def open_file(path: str) -> BinaryIO:
    """Open a capture or sidecar file for reading; a local one only when it is a regular file.

    Opening a FIFO blocks until a writer comes, and reading a device may never end: the open does not
    wait (``O_NONBLOCK``) and anything but a regular file is refused with a ReadFailure.
    """
    if "://" in path:
        return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise ReadFailure("not_a_regular_file", f"The path is a {file_type(mode)}, not a regular file.")
        os.set_blocking(descriptor, True)
        return open(descriptor, "rb", buffering=0)  # noqa: SIM115 - the caller closes it
    except BaseException:
        os.close(descriptor)
        raise


def file_type(mode: int) -> str:
    """What a non-regular file is, in words."""
    kinds = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "directory"))
    return next((name for test, name in kinds if test(mode)), "special file")


class RawFile(Stream):
    """The stored bytes, refusing to go past `max_file_bytes` (for filesystems that report no size).

    ``listed`` is the file's ``(size, mtime)`` when it was listed: a file that ends at another size, or
    whose mtime moved while it was read, changed under the reader (cut short by another process, or
    rewritten), and its bytes are not taken for its content.
    """

    def __init__(self, handle, max_bytes: int, digest: FileDigest | None = None,
                 listed: tuple[int, float] | None = None) -> None:
        super().__init__()
        self._handle = handle
        self._max_bytes = max_bytes
        self._digest = digest
        self._listed = listed

    def _read(self, size: int) -> bytes:
        data = self._handle.read(size)
        if self._position + len(data) > self._max_bytes:
            raise ReadFailure(
                "too_large", f"The file is over max_file_bytes ({self._max_bytes}).", limit=self._max_bytes
            )
        if size and not data and self._listed is not None:
            self._check_unchanged(*self._listed)
        if self._digest is not None:
            self._digest.update(data)
        return data


    def _check_unchanged(self, size: int, mtime: float) -> None:
        """At the end of the file: raise unless it is as long as listed and its mtime has not moved."""
        if self._position != size:
            raise ReadFailure("changed_during_read", f"The file ended after {self._position} bytes, but was "
                              f"listed with {size}: it changed while it was read; {_AGAIN}.",
                              read=self._position, listed=size)
        if isinstance(self._handle, io.FileIO) and mtime and os.fstat(self._handle.fileno()).st_mtime != mtime:
            raise ReadFailure("changed_during_read", f"The file was modified while it was read; {_AGAIN}.")


class Prefixed(Stream):
    """`prefix` followed by the rest of `stream`: lets sniffing look ahead without seeking.

    A failure met while reading the prefix is held back until the prefix has been handed out, so
    the records before a truncation are still read.
    """

    def __init__(self, prefix: bytes, stream: Stream, failure: ReadFailure | None = None) -> None:
        super().__init__()
        self._prefix = prefix
        self._stream = stream
        self._failure = failure

    def _read(self, size: int) -> bytes:
        if self._prefix:
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        if self._failure is not None:
            raise self._failure
        return self._stream.read(size)


class Gunzip(Stream):
    """Multi-member gzip decoder with an output cap (gzip-bomb guard).

    It also remembers where each member starts, so a per-record `.warc.gz` can report each record's
    offset in the compressed file, which is what `warcio extract` and CDX indexes expect.
    """

    def __init__(self, source: Stream, max_bytes: int) -> None:
        super().__init__()
        self._source = source
        self._max_bytes = max_bytes
        self._inflater = zlib.decompressobj(wbits=31)
        self._input = b""
        self._consumed = 0
        self._between_members = False
        self._done = False
        self.member_start = 0
        self.member_starts = {0: 0}

    def compressed_offset(self, offset: int) -> int | None:
        """Offset in the stored file of the member whose output starts at `offset`, if any.

        Records are read in order, so the members before `offset` are forgotten: the table stays as
        small as warcio's read-ahead, whatever the number of records in the file.
        """
        for start in [start for start in self.member_starts if start < offset]:
            del self.member_starts[start]
        return self.member_starts.get(offset)

    def _read(self, size: int) -> bytes:
        while not self._done:
            if self._between_members and not self._start_next_member():
                break
            if not self._input and not self._refill():
                raise ReadFailure(
                    "truncated_gzip",
                    "The gzip stream ends before its end-of-member "
                    f"marker (after {self._position} decompressed bytes).",
                    offset=self._consumed,
                )
            data = self._inflate(size)
            if data:
                return data
        return b""

    def _refill(self) -> bool:
        self._input = self._source.read(CHUNK)
        return bool(self._input)

    def _inflate(self, size: int) -> bytes:
        try:
            data = self._inflater.decompress(self._input, size)
        except zlib.error as error:
            raise ReadFailure(
                "corrupt_gzip", f"The gzip data is damaged: {error}.", offset=self._consumed
            ) from error
        rest = self._inflater.unused_data if self._inflater.eof else self._inflater.unconsumed_tail
        self._consumed += len(self._input) - len(rest)
        self._input = rest
        self._between_members = self._inflater.eof
        if self._position + len(data) > self._max_bytes:
            raise ReadFailure(
                "too_large",
                f"The file decompresses past max_decompressed_bytes ({self._max_bytes}).",
                limit=self._max_bytes,
            )
        return data

    def _start_next_member(self) -> bool:
        """Begin the next member; False at the end of the file.

        Zero padding after the last member is allowed (as Python's `gzip` does); any other trailing
        bytes are a damaged member, which would otherwise silently drop the rest of a `.warc.gz`.
        """
        while True:
            while len(self._input) < len(GZIP_MAGIC) and self._refill_more():
                pass
            self.member_start = self._consumed
            if not self._input:
                self._done = True
                return False
            if self._input.startswith(GZIP_MAGIC):
                self._inflater = zlib.decompressobj(wbits=31)
                self._between_members = False
                self.member_starts[self._position] = self._consumed
                return True
            padding = len(self._input) - len(self._input.lstrip(b"\0"))
            if not padding:
                raise ReadFailure(
                    "corrupt_gzip",
                    f"The bytes at offset {self._consumed} are not a gzip member.",
                    offset=self._consumed,
                )
            self._consumed += padding
            self._input = self._input[padding:]

    def _refill_more(self) -> bool:
        more = self._source.read(CHUNK)
        self._input += more
        return bool(more)


def read_up_to(stream: io.RawIOBase, size: int) -> bytes:
    """Read `size` bytes, or fewer only at the end of the stream (raw reads may return short)."""
    parts: list[bytes] = []
    _read_into(stream, size, parts)
    return b"".join(parts)


def read_head(stream: Stream, size: int) -> tuple[bytes, Prefixed]:
    """The first `size` bytes for sniffing, and a stream that replays them before the rest."""
    parts: list[bytes] = []
    try:
        _read_into(stream, size, parts)
    except ReadFailure as failure:
        head = b"".join(parts)
        if not head:
            raise
        return head, Prefixed(head, stream, failure)
    head = b"".join(parts)
    return head, Prefixed(head, stream)


def _read_into(stream: io.RawIOBase, size: int, parts: list[bytes]) -> None:
    remaining = size
    while remaining > 0:
        data = stream.read(min(remaining, CHUNK))
        if not data:
            return
        parts.append(data)
        remaining -= len(data)
