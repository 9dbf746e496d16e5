"""Read raw capture files (plain text, HTML, WARC, JSONL; gzipped or not) into Capture records.

The kind of a file is decided by its content; extensions are only a tie-breaker, because crawl dumps
are routinely misnamed. Every problem becomes a Rejection with a short reason instead of an
exception, so one bad file never stops a run: the DoFn wrapping `iter_captures` routes Rejections
to the dead-letter output.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import posixpath
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import yaml
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from dateutil.parser import isoparse
from warcio.archiveiterator import ArchiveIterator
from warcio.limitreader import LimitReader

from transforms.charset import bom_encoding, content_type_charset, decode_html, decode_text, printable_ratio
from transforms.records import Capture, Rejection

log = logging.getLogger(__name__)

_CHUNK = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class ReadLimits:
    """Size and sniffing thresholds; documented defaults live in `configs/read.yaml`."""

    max_file_bytes: int
    max_decompressed_bytes: int
    max_capture_bytes: int
    sniff_bytes: int = 8192
    charset_prescan_bytes: int = 4096
    min_printable_ratio: float = 0.95
    max_sidecar_bytes: int = 65536
    min_utf8_share: float = 0.8
    max_future_capture_hours: float = 36

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not value > 0:
                raise ValueError(f"read limit {item.name} must be positive, got {value!r}")


def load_read_limits(path: str | Path) -> ReadLimits:
    """Read the `read:` section of a YAML file (see `configs/read.yaml`); unknown keys are an error."""
    with open(path, encoding="utf-8") as handle:
        return read_limits(yaml.safe_load(handle))


def read_limits(settings: dict) -> ReadLimits:
    """The limits of a loaded `configs/read.yaml` (its `read:` section); unknown keys are an error."""
    return ReadLimits(**settings["read"])


# --------------------------------------------------------------------------------------------------
# Which paths are captures


def is_capture_path(path: str) -> bool:
    """False for sidecars, partial downloads and hidden or underscore-prefixed files and directories.

    Underscore-prefixed *files* are skipped too (not only directories), following the Hadoop/Spark
    convention that `_SUCCESS` and `_temporary` are bookkeeping, not data.
    """
    parts = _path_parts(path)
    if not parts:
        return False
    *directories, name = parts
    lowered = name.lower()
    if name.startswith((".", "_")) or lowered.endswith((".meta.json", ".tmp", ".part")):
        return False
    return not any(part.startswith((".", "_")) for part in directories if part not in (".", ".."))


def source_file(source_uri: str) -> str:
    """The input file a capture's ``source_uri`` points into (without ``#offset=``/``#line=``)."""
    path, separator, fragment = source_uri.rpartition("#")
    return path if separator and fragment.startswith(("offset=", "line=")) else source_uri


def _path_parts(path: str) -> list[str]:
    """Path components below the bucket for `scheme://bucket/...`, else all components."""
    _, separator, rest = path.partition("://")
    rest = rest.partition("/")[2] if separator else path
    return [part for part in rest.split("/") if part]


# --------------------------------------------------------------------------------------------------
# Entry point


class _ReadFailure(Exception):
    """A whole-file problem found while streaming; turned into exactly one Rejection."""

    def __init__(self, reason: str, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.extra = extra


@dataclass(frozen=True)
class _Source:
    """What every per-kind reader needs to know about the file it reads."""

    path: str
    limits: ReadLimits
    mtime: datetime | None
    gunzip: _Gunzip | None


def iter_captures(path: str, limits: ReadLimits,
                  stat: tuple[int, float] | None = None) -> Iterator[Capture | Rejection]:
    """Yield the captures in one file, and a Rejection for each record or file that cannot be read.

    ``stat`` is the file's ``(size, mtime seconds)`` when the caller listed it already (else it is
    looked up). Never raises for bad input: a file-level failure found midway (truncated gzip, size
    cap) yields the captures read so far and then one Rejection.
    """
    try:
        yield from _iter_file(path, limits, stat)
    except _ReadFailure as failure:
        yield Rejection(path, failure.reason, failure.detail, extra=dict(failure.extra))
    except OSError as error:
        yield Rejection(
            path, "unreadable", f"Could not read the file: {error}", extra={"error": type(error).__name__}
        )


def _iter_file(path: str, limits: ReadLimits, stat: tuple[int, float] | None) -> Iterator[Capture | Rejection]:
    size, mtime = _from_seconds(*stat) if stat else _stat(path)
    if size is not None and size > limits.max_file_bytes:
        raise _ReadFailure(
            "too_large",
            f"The file is {size} bytes, over max_file_bytes ({limits.max_file_bytes}).",
            size=size,
            limit=limits.max_file_bytes,
        )
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        stream = _RawFile(handle, limits.max_file_bytes)
        magic = _read_up_to(stream, len(_GZIP_MAGIC))
        stream = _Prefixed(magic, stream)
        gunzip = _Gunzip(stream, limits.max_decompressed_bytes) if magic == _GZIP_MAGIC else None
        head, body = _read_head(gunzip or stream, limits.sniff_bytes)
        if not head:
            raise _ReadFailure("empty_file", "The file has no content.")
        kind = _sniff_kind(head, path)
        if kind == "binary":
            raise _ReadFailure(
                "binary_content",
                "The file holds binary data (NUL bytes without a UTF-16 or UTF-32 byte-order mark).",
            )
        yield from _READERS[kind](body, _Source(path, limits, mtime, gunzip))


def _stat(path: str) -> tuple[int | None, datetime | None]:
    """Size and modification time, when the filesystem reports them."""
    matches = FileSystems.match([path])[0].metadata_list
    if not matches:
        return None, None
    return _from_seconds(matches[0].size_in_bytes, matches[0].last_updated_in_seconds)


def _from_seconds(size: int, seconds: float) -> tuple[int, datetime | None]:
    return size, datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


# --------------------------------------------------------------------------------------------------
# Byte streams: size caps, gzip, and putting sniffed bytes back


class _Stream(io.RawIOBase):
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


class _RawFile(_Stream):
    """The stored bytes, refusing to go past `max_file_bytes` (for filesystems that report no size)."""

    def __init__(self, handle, max_bytes: int) -> None:
        super().__init__()
        self._handle = handle
        self._max_bytes = max_bytes

    def _read(self, size: int) -> bytes:
        data = self._handle.read(size)
        if self._position + len(data) > self._max_bytes:
            raise _ReadFailure(
                "too_large", f"The file is over max_file_bytes ({self._max_bytes}).", limit=self._max_bytes
            )
        return data


class _Prefixed(_Stream):
    """`prefix` followed by the rest of `stream`: lets sniffing look ahead without seeking.

    A failure met while reading the prefix is held back until the prefix has been handed out, so
    the records before a truncation are still read.
    """

    def __init__(self, prefix: bytes, stream: _Stream, failure: _ReadFailure | None = None) -> None:
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


class _Gunzip(_Stream):
    """Multi-member gzip decoder with an output cap (gzip-bomb guard).

    It also remembers where each member starts, so a per-record `.warc.gz` can report each record's
    offset in the compressed file, which is what `warcio extract` and CDX indexes expect.
    """

    def __init__(self, source: _Stream, max_bytes: int) -> None:
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
        """Offset in the stored file of the member whose output starts at `offset`, if any."""
        return self.member_starts.get(offset)

    def _read(self, size: int) -> bytes:
        while not self._done:
            if self._between_members and not self._start_next_member():
                break
            if not self._input and not self._refill():
                raise _ReadFailure(
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
        self._input = self._source.read(_CHUNK)
        return bool(self._input)

    def _inflate(self, size: int) -> bytes:
        try:
            data = self._inflater.decompress(self._input, size)
        except zlib.error as error:
            raise _ReadFailure(
                "corrupt_gzip", f"The gzip data is damaged: {error}.", offset=self._consumed
            ) from error
        rest = self._inflater.unused_data if self._inflater.eof else self._inflater.unconsumed_tail
        self._consumed += len(self._input) - len(rest)
        self._input = rest
        self._between_members = self._inflater.eof
        if self._position + len(data) > self._max_bytes:
            raise _ReadFailure(
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
            while len(self._input) < len(_GZIP_MAGIC) and self._refill_more():
                pass
            self.member_start = self._consumed
            if not self._input:
                self._done = True
                return False
            if self._input.startswith(_GZIP_MAGIC):
                self._inflater = zlib.decompressobj(wbits=31)
                self._between_members = False
                self.member_starts[self._position] = self._consumed
                return True
            padding = len(self._input) - len(self._input.lstrip(b"\0"))
            if not padding:
                raise _ReadFailure(
                    "corrupt_gzip",
                    f"The bytes at offset {self._consumed} are not a gzip member.",
                    offset=self._consumed,
                )
            self._consumed += padding
            self._input = self._input[padding:]

    def _refill_more(self) -> bool:
        more = self._source.read(_CHUNK)
        self._input += more
        return bool(more)


def _read_up_to(stream: io.RawIOBase, size: int) -> bytes:
    """Read `size` bytes, or fewer only at the end of the stream (raw reads may return short)."""
    parts: list[bytes] = []
    _read_into(stream, size, parts)
    return b"".join(parts)


def _read_head(stream: _Stream, size: int) -> tuple[bytes, _Prefixed]:
    """The first `size` bytes for sniffing, and a stream that replays them before the rest."""
    parts: list[bytes] = []
    try:
        _read_into(stream, size, parts)
    except _ReadFailure as failure:
        head = b"".join(parts)
        if not head:
            raise
        return head, _Prefixed(head, stream, failure)
    head = b"".join(parts)
    return head, _Prefixed(head, stream)


def _read_into(stream: io.RawIOBase, size: int, parts: list[bytes]) -> None:
    remaining = size
    while remaining > 0:
        data = stream.read(min(remaining, _CHUNK))
        if not data:
            return
        parts.append(data)
        remaining -= len(data)


# --------------------------------------------------------------------------------------------------
# Sniffing the kind of a file


_HTML_START = re.compile(
    r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    r"<(?:!doctype\s+html|html|head|body|meta|title|link|script|style|div|p|article|section|header"
    r"|nav|main|table|span|h[1-6]|!--)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
_HTML_MARKER = re.compile(r"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
def _sniff_kind(head: bytes, path: str) -> str:
    """'warc', 'jsonl', 'html', 'text' or 'binary', from the first bytes; the extension breaks ties."""
    if head.lstrip(b"\r\n").startswith(b"WARC/1."):
        return "warc"
    view = _sniff_view(head)
    if view is None:
        return "binary"
    hint = _extension_hint(path)
    if _looks_like_jsonl(view, hint):
        return "jsonl"
    if _looks_like_html(view, hint):
        return "html"
    return "text"


def _sniff_view(head: bytes) -> str | None:
    """The head as text good enough for markup tests; None if it has NULs and no UTF-16/32 BOM."""
    encoding = bom_encoding(head)
    if encoding and encoding != "utf-8-sig":
        return head.decode(encoding, errors="replace")
    if b"\0" in head:
        return None
    return head.removeprefix(codecs.BOM_UTF8).decode("latin-1")


def _extension_hint(path: str) -> str | None:
    name = path.lower().removesuffix(".gz")
    for suffixes, kind in (
        ((".warc",), "warc"),
        ((".jsonl", ".ndjson"), "jsonl"),
        ((".html", ".htm", ".xhtml"), "html"),
        ((".txt",), "text"),
    ):
        if name.endswith(suffixes):
            return kind
    return None


def _looks_like_jsonl(view: str, hint: str | None) -> bool:
    """The first non-empty line is a JSON object (or starts like one in a `.jsonl` file)."""
    first = next((line.strip() for line in view.split("\n") if line.strip()), "")
    if not first.startswith("{"):
        return False
    if hint == "jsonl":
        return True
    try:
        return isinstance(json.loads(first), dict)
    except (ValueError, RecursionError):
        return False


def _looks_like_html(view: str, hint: str | None) -> bool:
    if _HTML_START.match(view) or _HTML_MARKER.search(view):
        return True
    return hint == "html" and view.lstrip().startswith("<")


# --------------------------------------------------------------------------------------------------
# Dates


def _parse_datetime(value: object) -> datetime | None:
    """ISO 8601 or RFC 2822 to an aware UTC datetime; a value without a zone is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = isoparse(text)
    except (ValueError, OverflowError):
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    try:
        return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _date_hint(value: object) -> str | None:
    """The value as given, if it parses as a date; enrichment re-reads it and keeps its precision."""
    return value.strip() if _parse_datetime(value) is not None else None


def _first_time(limits: ReadLimits, *candidates: tuple[datetime | None, str]) -> tuple[datetime | None, str | None]:
    """The first known time and the name of its source (the capture-time fallback chain).

    A time later than now plus ``max_future_capture_hours`` is a broken clock or a typo (``2999``);
    it would file the article under a day that has not come, so the next source is used instead.
    """
    latest = datetime.now(UTC) + timedelta(hours=limits.max_future_capture_hours)
    return next(((when, source) for when, source in candidates if when is not None and when <= latest), (None, None))


# --------------------------------------------------------------------------------------------------
# Single-capture files: plain text and HTML, with optional sidecars


@dataclass(frozen=True)
class _Sidecar:
    url: str | None = None
    fetched_at: datetime | None = None
    published_at: str | None = None
    section: str | None = None


def _read_html_file(body: _Stream, source: _Source) -> Iterator[Capture | Rejection]:
    data = _read_capture_bytes(body, source.limits)
    content = decode_html(data, None, source.limits.charset_prescan_bytes, source.limits.min_utf8_share)
    if content is None:
        raise _ReadFailure(
            "undecodable",
            "The page does not decode cleanly in its declared charset, "
            "UTF-8, or any charset detected from its bytes.",
        )
    yield _single_capture("html", content, source)


def _read_text_file(body: _Stream, source: _Source) -> Iterator[Capture | Rejection]:
    data = _read_capture_bytes(body, source.limits)
    content = decode_text(data, source.limits.min_utf8_share)
    if content is None or printable_ratio(content[: source.limits.sniff_bytes]) < (
        source.limits.min_printable_ratio
    ):
        raise _ReadFailure("binary_content", "The file is neither WARC, JSONL, HTML nor readable text.")
    yield _single_capture("text", content, source)


def _read_capture_bytes(body: _Stream, limits: ReadLimits) -> bytes:
    data = _read_up_to(body, limits.max_capture_bytes + 1)
    if len(data) > limits.max_capture_bytes:
        raise _ReadFailure(
            "too_large",
            f"The page is over max_capture_bytes ({limits.max_capture_bytes}).",
            limit=limits.max_capture_bytes,
        )
    return data


def _single_capture(kind: str, content: str, source: _Source) -> Capture:
    if not content.strip():
        raise _ReadFailure("empty_file", "The file holds only whitespace.")
    sidecar = _load_sidecar(source.path, source.limits.max_sidecar_bytes)
    captured_at, captured_at_source = _first_time(
        source.limits, (sidecar.fetched_at, "sidecar"), (source.mtime, "file_mtime")
    )
    return Capture(
        source_uri=source.path,
        kind=kind,
        content=content,
        url=sidecar.url,
        captured_at=captured_at,
        captured_at_source=captured_at_source,
        published_hint=sidecar.published_at,
        published_hint_source="sidecar" if sidecar.published_at else None,
        section_hint=sidecar.section,
        section_hint_source="sidecar" if sidecar.section else None,
    )


def _sidecar_paths(path: str) -> list[str]:
    """`a.html.gz` -> `a.html.gz.meta.json`, `a.html.meta.json`, `a.meta.json`: most specific first."""
    without_gz = path[:-3] if path.lower().endswith(".gz") else path
    stems = [path, without_gz, posixpath.splitext(without_gz)[0]]
    return list(dict.fromkeys(stem + ".meta.json" for stem in stems))


def _load_sidecar(path: str, max_bytes: int) -> _Sidecar:
    """The most specific sidecar's usable fields; a broken sidecar or field is ignored, not fatal."""
    for candidate in _sidecar_paths(path):
        if FileSystems.exists(candidate):
            return _parse_sidecar(candidate, max_bytes)
    return _Sidecar()


def _parse_sidecar(path: str, max_bytes: int) -> _Sidecar:
    try:
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            raw = handle.read(max_bytes + 1)
        values = json.loads(raw) if len(raw) <= max_bytes else None
    except (OSError, ValueError, RecursionError) as error:
        log.debug("ignoring unreadable sidecar %s: %s", path, error)
        return _Sidecar()
    if not isinstance(values, dict):
        log.debug("ignoring sidecar %s: not a JSON object of at most %d bytes", path, max_bytes)
        return _Sidecar()
    sidecar = _Sidecar(
        url=_nonempty_string(values.get("url")),
        fetched_at=_parse_datetime(values.get("fetched_at")),
        published_at=_date_hint(values.get("published_at")),
        section=_nonempty_string(values.get("section")),
    )
    for name in ("url", "fetched_at", "published_at", "section"):
        if values.get(name) is not None and getattr(sidecar, name) is None:
            log.debug("ignoring bad %s in sidecar %s: %r", name, path, values[name])
    return sidecar


def _nonempty_string(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# --------------------------------------------------------------------------------------------------
# WARC


def _read_warc(body: _Stream, source: _Source) -> Iterator[Capture | Rejection]:
    """One Capture per HTML `response` record; stops at the first truncated or corrupt record."""
    try:
        yield from _iter_warc_records(ArchiveIterator(body), body, source)
    except _ReadFailure as failure:
        reason = {"truncated_gzip": "truncated_warc", "corrupt_gzip": "corrupt_warc"}.get(failure.reason)
        if reason is None or source.gunzip is None:
            raise
        # The damaged member is the one being read; its start is an offset in the stored file.
        offset = source.gunzip.member_start
        damage = "breaks off before its end" if reason == "truncated_warc" else "is damaged"
        yield Rejection(
            f"{source.path}#offset={offset}",
            reason,
            f"The gzip member at offset {offset} {damage}.",
            extra={"offset": offset},
        )


def _iter_warc_records(
    records: ArchiveIterator, body: _Stream, source: _Source
) -> Iterator[Capture | Rejection]:
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except (_ReadFailure, OSError):
            raise
        except Exception as error:  # warcio fails in many ways on damaged input
            yield _warc_failure(
                _damage_reason(records, body),
                f"The record does not parse ({error!r})",
                records.offset,
                source,
            )
            return
        start = records.offset  # warcio has just moved it to this record's first byte
        if record.length is None:
            yield _warc_failure(
                _damage_reason(records, body),
                "The record has no Content-Length, so the rest of the file cannot be split into records",
                start,
                source,
            )
            return
        uri = f"{source.path}#offset={_stored_offset(start, source)}"
        outcome = _warc_response(record, uri, source) if record.rec_type == "response" else None
        missing = _drain(record.raw_stream)
        if missing:
            yield _warc_failure(
                "truncated_warc",
                f"The file ends {missing} bytes short of the record's Content-Length",
                start,
                source,
            )
            return
        try:
            cut_short = _overruns_its_length(records)
        except _ReadFailure:  # the next record is damaged; this one is whole
            if outcome is not None:
                yield outcome
            raise
        if cut_short:
            yield _warc_failure(
                "corrupt_warc",
                "The record goes on past its Content-Length, so its payload is cut short",
                start,
                source,
            )
        elif outcome is not None:
            yield outcome
    if body.tell() > records.offset:
        yield _warc_failure(
            "truncated_warc", "The file ends inside a record's headers", records.offset, source
        )


def _damage_reason(records: ArchiveIterator, body: _Stream) -> str:
    """Headers that break off at the very end of the file are a truncation; anything else is corrupt."""
    buffered = records.reader.rem_length() if records.reader is not None else 0
    return "truncated_warc" if not buffered and not body.read(1) else "corrupt_warc"


def _overruns_its_length(records: ArchiveIterator) -> bool:
    """True when something other than the closing blank lines follows the record's declared length.

    warcio then counts an error and skips a line to find the next record, which it usually does.
    """
    errors = records.err_count
    records.read_to_end()
    return records.err_count > errors


def _drain(stream) -> int:
    """Read the rest of a record; returns how many declared bytes the file did not have."""
    while stream.read(_CHUNK):
        pass
    return stream.limit if isinstance(stream, LimitReader) else 0


def _warc_response(record, uri: str, source: _Source) -> Capture | Rejection:
    """The record's page, or why it is not one."""
    http = record.http_headers
    status = http.get_statuscode() if http else None
    if status and not status.startswith("2"):
        return Rejection(uri, "http_status", f"The server answered HTTP {status}.", extra={"status": status})
    content_type = (http.get_header("Content-Type") if http else None) or record.content_type or ""
    stream = record.content_stream()
    limits = source.limits
    head = _read_up_to(stream, limits.sniff_bytes)
    if not head.strip():
        return Rejection(uri, "empty_payload", "The response has no body.")
    if not _is_html_payload(content_type, head):
        return Rejection(
            uri,
            "not_html",
            f"The payload is {content_type or 'of unknown type'}, not HTML.",
            extra={"content_type": content_type},
        )
    data = head + _read_up_to(stream, limits.max_capture_bytes + 1 - len(head))
    if len(data) > limits.max_capture_bytes:
        return Rejection(
            uri,
            "too_large",
            f"The page is over max_capture_bytes ({limits.max_capture_bytes}).",
            extra={"limit": limits.max_capture_bytes},
        )
    content = decode_html(data, content_type_charset(content_type), limits.charset_prescan_bytes,
                          limits.min_utf8_share)
    if content is None:
        return Rejection(uri, "undecodable", "The page does not decode cleanly in any charset tried.")
    warc_date = _parse_datetime(record.rec_headers.get_header("WARC-Date"))
    captured_at, captured_at_source = _first_time(limits, (warc_date, "warc_date"), (source.mtime, "file_mtime"))
    return Capture(
        source_uri=uri,
        kind="html",
        content=content,
        url=record.rec_headers.get_header("WARC-Target-URI"),
        captured_at=captured_at,
        captured_at_source=captured_at_source,
    )


def _is_html_payload(content_type: str, head: bytes) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in _HTML_TYPES:
        return True
    view = _sniff_view(head)
    return view is not None and _looks_like_html(view, None)


def _stored_offset(offset: int, source: _Source) -> int:
    """Offset in the stored file: the gzip member's start for per-record `.warc.gz`.

    A WARC gzipped as one member cannot be seeked into, so its records keep decompressed offsets.
    """
    if source.gunzip is None:
        return offset
    stored = source.gunzip.compressed_offset(offset)
    return offset if stored is None else stored


def _warc_failure(reason: str, detail: str, offset: int, source: _Source) -> Rejection:
    stored = _stored_offset(offset, source)
    return Rejection(
        f"{source.path}#offset={stored}",
        reason,
        f"{detail} (record at offset {stored}).",
        extra={"offset": stored},
    )


# --------------------------------------------------------------------------------------------------
# JSONL


_JSONL_STRING_FIELDS = ("url", "html", "text", "fetched_at", "published_at", "section")


def _read_jsonl(body: _Stream, source: _Source) -> Iterator[Capture | Rejection]:
    """One Capture per line, streamed; a bad line is rejected on its own and the file goes on."""
    limits = source.limits
    lines = io.BufferedReader(body, buffer_size=_CHUNK)
    for number, line in enumerate(_iter_lines(lines, limits.max_capture_bytes), start=1):
        uri = f"{source.path}#line={number}"
        if line is None:
            yield Rejection(
                uri,
                "too_large",
                f"The line is over max_capture_bytes ({limits.max_capture_bytes}).",
                extra={"line": number},
            )
        elif line.strip():
            yield _jsonl_record(line.removeprefix(codecs.BOM_UTF8) if number == 1 else line, uri, source)


def _iter_lines(stream: io.BufferedReader, max_bytes: int) -> Iterator[bytes | None]:
    """Lines of at most `max_bytes`; None stands for a longer line, which is skipped unread."""
    while line := stream.readline(max_bytes + 1):
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while (rest := stream.readline(_CHUNK)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


def capture_from_record(
    record: bytes, source_uri: str, limits: ReadLimits, received_at: datetime | None = None
) -> Capture | Rejection:
    """One JSONL-shaped capture record that arrived on its own (a Pub/Sub message), read like a JSONL line.

    Without a ``fetched_at`` of its own, the record was captured when it was received (``message_time``).
    """
    if len(record) > limits.max_capture_bytes:
        return Rejection(source_uri, "too_large", f"The record is over max_capture_bytes ({limits.max_capture_bytes}).")
    source = _Source(source_uri, limits, received_at, None)
    capture = _jsonl_record(record.removeprefix(codecs.BOM_UTF8), source_uri, source)
    if isinstance(capture, Capture) and capture.captured_at_source == "file_mtime":
        return replace(capture, captured_at_source="message_time")
    return capture


def _jsonl_record(line: bytes, uri: str, source: _Source) -> Capture | Rejection:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as error:
        return Rejection(uri, "malformed_json", f"The line is not valid JSON: {error}.")
    if not isinstance(record, dict):
        return Rejection(uri, "malformed_json", f"The line is JSON {type(record).__name__}, not an object.")
    wrong = [name for name in _JSONL_STRING_FIELDS if not isinstance(record.get(name), str | None)]
    if wrong:
        return Rejection(
            uri, "bad_field", f"These fields must be strings: {', '.join(wrong)}.", extra={"fields": wrong}
        )
    kind = "html" if _nonempty_string(record.get("html")) else "text"
    content = record.get(kind)
    if not _nonempty_string(content):
        return Rejection(uri, "missing_content", "The record has neither `html` nor `text`.")
    fetched_at = _parse_datetime(record.get("fetched_at"))
    published = _date_hint(record.get("published_at"))
    if (record.get("fetched_at") and not fetched_at) or (record.get("published_at") and not published):
        log.debug("ignoring an unparseable date in %s", uri)
    captured_at, captured_at_source = _first_time(source.limits, (fetched_at, "record"), (source.mtime, "file_mtime"))
    section = _nonempty_string(record.get("section"))
    return Capture(
        source_uri=uri,
        kind=kind,
        content=content,
        url=_nonempty_string(record.get("url")),
        captured_at=captured_at,
        captured_at_source=captured_at_source,
        published_hint=published,
        published_hint_source="record" if published else None,
        section_hint=section,
        section_hint_source="record" if section else None,
    )


_READERS = {
    "warc": _read_warc,
    "jsonl": _read_jsonl,
    "html": _read_html_file,
    "text": _read_text_file,
}
