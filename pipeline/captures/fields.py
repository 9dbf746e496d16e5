"""Dates and strings as captures carry them (sidecars, WARC headers, JSONL records), and the capture-time chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from dateutil.parser import isoparse

from pipeline.captures.source import ReadLimits


def parse_timestamp(value: object) -> datetime | None:
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


def date_hint(value: object) -> str | None:
    """The value as given, if it parses as a date; enrichment re-reads it and keeps its precision."""
    return value.strip() if parse_timestamp(value) is not None else None


def first_time(limits: ReadLimits, *candidates: tuple[datetime | None, str]) -> tuple[datetime | None, str | None]:
    """The first known time and the name of its source (the capture-time fallback chain).

    A time later than now plus ``max_future_capture_hours`` is a broken clock or a typo (``2999``);
    it would file the article under a day that has not come, so the next source is used instead. So is
    a time before ``min_capture_year`` (a file mtime of 0 is 1970-01-01).
    """
    latest = datetime.now(UTC) + timedelta(hours=limits.max_future_capture_hours)
    earliest = datetime(limits.min_capture_year, 1, 1, tzinfo=UTC)
    return next(((when, source) for when, source in candidates if when is not None and earliest <= when <= latest),
                (None, None))


def nonempty_string(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
