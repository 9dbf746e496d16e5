"""WARC files: one capture per HTML ``response`` record; a truncated or damaged record ends the file."""

from __future__ import annotations

from collections.abc import Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.limitreader import LimitReader

from pipeline.captures.fields import first_time, parse_timestamp
from pipeline.captures.sniff import looks_like_html, sniff_view
from pipeline.captures.source import Source
from pipeline.captures.streams import CHUNK, ReadFailure, Stream, read_up_to
from transforms.charset import content_type_charset, decode_html
from transforms.records import Capture, Rejection

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_warc(body: Stream, source: Source) -> Iterator[Capture | Rejection]:
    """One Capture per HTML `response` record; stops at the first truncated or corrupt record."""
    try:
        yield from _iter_warc_records(ArchiveIterator(body), body, source)
    except ReadFailure as failure:
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
    records: ArchiveIterator, body: Stream, source: Source
) -> Iterator[Capture | Rejection]:
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except (ReadFailure, OSError):
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
        position = _stored_offset(start, source)
        wanted = record.rec_type == "response" and not (source.skips and source.skips(position))
        outcome = _warc_response(record, f"{source.path}#offset={position}", source) if wanted else None
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
        except ReadFailure:  # the next record is damaged; this one is whole
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


def _damage_reason(records: ArchiveIterator, body: Stream) -> str:
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
    while stream.read(CHUNK):
        pass
    return stream.limit if isinstance(stream, LimitReader) else 0


def _warc_response(record, uri: str, source: Source) -> Capture | Rejection:
    """The record's page, or why it is not one."""
    http = record.http_headers
    status = http.get_statuscode() if http else None
    if status and not status.startswith("2"):
        return Rejection(uri, "http_status", f"The server answered HTTP {status}.", extra={"status": status})
    content_type = (http.get_header("Content-Type") if http else None) or record.content_type or ""
    stream = record.content_stream()
    limits = source.limits
    head = read_up_to(stream, limits.sniff_bytes)
    if not head.strip():
        return Rejection(uri, "empty_payload", "The response has no body.")
    if not _is_html_payload(content_type, head):
        return Rejection(
            uri,
            "not_html",
            f"The payload is {content_type or 'of unknown type'}, not HTML.",
            extra={"content_type": content_type},
        )
    data = head + read_up_to(stream, limits.max_capture_bytes + 1 - len(head))
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
    warc_date = parse_timestamp(record.rec_headers.get_header("WARC-Date"))
    captured_at, captured_at_source = first_time(limits, (warc_date, "warc_date"), (source.mtime, "file_mtime"))
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
    view = sniff_view(head)
    return view is not None and looks_like_html(view, None)


def _stored_offset(offset: int, source: Source) -> int:
    """Offset in the stored file: the gzip member's start for per-record `.warc.gz`.

    A WARC gzipped as one member cannot be seeked into, so its records keep decompressed offsets.
    """
    if source.gunzip is None:
        return offset
    stored = source.gunzip.compressed_offset(offset)
    return offset if stored is None else stored


def _warc_failure(reason: str, detail: str, offset: int, source: Source) -> Rejection:
    stored = _stored_offset(offset, source)
    return Rejection(
        f"{source.path}#offset={stored}",
        reason,
        f"{detail} (record at offset {stored}).",
        extra={"offset": stored},
    )
