"""Plain records that travel between the pipeline's stages.

They are dataclasses of plain values so that any runner can pickle them and any notebook can build
them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Capture:
    """One saved news page, before cleaning.

    ``kind`` is ``"html"`` (``content`` is the decoded page) or ``"text"`` (already-extracted text that
    still carries site furniture). The ``*_hint`` fields are what the capture's own record or sidecar
    asserted; enrichment decides whether they win.
    """

    source_uri: str
    kind: str
    content: str
    url: str | None = None
    captured_at: datetime | None = None
    captured_at_source: str | None = None
    published_hint: str | None = None
    published_hint_source: str | None = None
    section_hint: str | None = None
    section_hint_source: str | None = None


@dataclass(frozen=True)
class Rejection:
    """Why one capture (or one whole input file) could not become an article."""

    source_uri: str
    reason: str
    detail: str = ""
    stage: str = "read"
    extra: dict = field(default_factory=dict)


def capture_position(source_uri: str) -> int | None:
    """Where a capture sits in its file: the number in ``#line=``/``#offset=``; None for a whole file."""
    _, separator, fragment = source_uri.rpartition("#")
    name, _, number = fragment.partition("=")
    return int(number) if separator and name in ("offset", "line") and number.isdigit() else None
