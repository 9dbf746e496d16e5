"""JSONL files: one capture per line, read as a stream; also one record on its own (a Pub/Sub message)."""

from __future__ import annotations

import codecs
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from pipeline.captures.fields import date_hint, first_time, nonempty_string, parse_timestamp
from pipeline.captures.source import ReadLimits, Source
from pipeline.captures.streams import CHUNK, Stream
from transforms.records import Capture, Rejection

log = logging.getLogger(__name__)

_JSONL_STRING_FIELDS = ("url", "html", "text", "fetched_at", "published_at", "section")


def read_jsonl(body: Stream, source: Source) -> Iterator[Capture | Rejection]:
    """One Capture per line, streamed; a bad line is rejected on its own and the file goes on."""
    limits = source.limits
    lines = io.BufferedReader(body, buffer_size=CHUNK)
    for number, line in enumerate(_iter_lines(lines, limits.max_capture_bytes), start=1):
        uri = f"{source.path}#line={number}"
        if source.skips and source.skips(number):
            continue
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
            while (rest := stream.readline(CHUNK)) and not rest.endswith(b"\n"):
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
    source = Source(source_uri, limits, received_at, None)
    capture = _jsonl_record(record.removeprefix(codecs.BOM_UTF8), source_uri, source)
    if isinstance(capture, Capture) and capture.captured_at_source == "file_mtime":
        return replace(capture, captured_at_source="message_time")
    return capture


def _jsonl_record(line: bytes, uri: str, source: Source) -> Capture | Rejection:
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
    kind = "html" if nonempty_string(record.get("html")) else "text"
    content = record.get(kind)
    if not nonempty_string(content):
        return Rejection(uri, "missing_content", "The record has neither `html` nor `text`.")
    fetched_at = parse_timestamp(record.get("fetched_at"))
    published = date_hint(record.get("published_at"))
    if (record.get("fetched_at") and not fetched_at) or (record.get("published_at") and not published):
        log.debug("ignoring an unparseable date in %s", uri)
    captured_at, captured_at_source = first_time(source.limits, (fetched_at, "record"), (source.mtime, "file_mtime"))
    section = nonempty_string(record.get("section"))
    return Capture(
        source_uri=uri,
        kind=kind,
        content=content,
        url=nonempty_string(record.get("url")),
        captured_at=captured_at,
        captured_at_source=captured_at_source,
        published_hint=published,
        published_hint_source="record" if published else None,
        section_hint=section,
        section_hint_source="record" if section else None,
    )
