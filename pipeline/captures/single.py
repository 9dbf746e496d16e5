"""Single-capture files: one HTML page or one text per file, with an optional ``.meta.json`` sidecar."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from apache_beam.io.filesystems import FileSystems

from pipeline.captures.fields import date_hint, first_time, nonempty_string, parse_timestamp
from pipeline.captures.paths import local_path, sidecar_paths
from pipeline.captures.source import ReadLimits, Source
from pipeline.captures.streams import ReadFailure, Stream, open_file, read_up_to
from transforms.charset import decode_html, decode_text, printable_ratio
from transforms.records import Capture, Rejection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Sidecar:
    url: str | None = None
    fetched_at: datetime | None = None
    published_at: str | None = None
    section: str | None = None


def read_html_file(body: Stream, source: Source) -> Iterator[Capture | Rejection]:
    """The page, decoded in its declared charset, UTF-8 or a detected one."""
    data = _read_capture_bytes(body, source.limits)
    content = decode_html(data, None, source.limits.charset_prescan_bytes, source.limits.min_utf8_share)
    if content is None:
        raise ReadFailure(
            "undecodable",
            "The page does not decode cleanly in its declared charset, "
            "UTF-8, or any charset detected from its bytes.",
        )
    yield _single_capture("html", content, source)


def read_text_file(body: Stream, source: Source) -> Iterator[Capture | Rejection]:
    """The text, when it decodes to printable characters (else the file is taken as binary)."""
    data = _read_capture_bytes(body, source.limits)
    content = decode_text(data, source.limits.min_utf8_share)
    if content is None or printable_ratio(content[: source.limits.sniff_bytes]) < (
        source.limits.min_printable_ratio
    ):
        raise ReadFailure("binary_content", "The file is neither WARC, JSONL, HTML nor readable text.")
    yield _single_capture("text", content, source)


def _read_capture_bytes(body: Stream, limits: ReadLimits) -> bytes:
    data = read_up_to(body, limits.max_capture_bytes + 1)
    if len(data) > limits.max_capture_bytes:
        raise ReadFailure(
            "too_large",
            f"The page is over max_capture_bytes ({limits.max_capture_bytes}).",
            limit=limits.max_capture_bytes,
        )
    return data


def _single_capture(kind: str, content: str, source: Source) -> Capture:
    if not content.strip():
        raise ReadFailure("empty_file", "The file holds only whitespace.")
    sidecar = _load_sidecar(local_path(source.path), source.limits.max_sidecar_bytes)
    captured_at, captured_at_source = first_time(
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


def _load_sidecar(path: str, max_bytes: int) -> _Sidecar:
    """The most specific sidecar's usable fields; a broken sidecar or field is ignored, not fatal."""
    for candidate in sidecar_paths(path):
        if FileSystems.exists(candidate):
            return _parse_sidecar(candidate, max_bytes)
    return _Sidecar()


def _parse_sidecar(path: str, max_bytes: int) -> _Sidecar:
    try:
        with open_file(path) as handle:
            raw = read_up_to(handle, max_bytes + 1)
        values = json.loads(raw) if len(raw) <= max_bytes else None
    except (OSError, ValueError, RecursionError, ReadFailure) as error:
        log.debug("ignoring unreadable sidecar %s: %s", path, error)
        return _Sidecar()
    if not isinstance(values, dict):
        log.debug("ignoring sidecar %s: not a JSON object of at most %d bytes", path, max_bytes)
        return _Sidecar()
    sidecar = _Sidecar(
        url=nonempty_string(values.get("url")),
        fetched_at=parse_timestamp(values.get("fetched_at")),
        published_at=date_hint(values.get("published_at")),
        section=nonempty_string(values.get("section")),
    )
    for name in ("url", "fetched_at", "published_at", "section"):
        if values.get(name) is not None and getattr(sidecar, name) is None:
            log.debug("ignoring bad %s in sidecar %s: %r", name, path, values[name])
    return sidecar
