"""Publication dates: parse candidate values and pick the first trustworthy one by source order."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dateutil import parser as dateutil_parser

# A zone abbreviation dateutil does not know (and `dates.zone_abbreviations` does not list) leaves the time
# as written, taken as UTC like any time without a zone; said here once rather than warned per page.
warnings.filterwarnings("ignore", category=dateutil_parser.UnknownTimezoneWarning)

_DOTTED_DATE = re.compile(r"(?<!\d)\d{1,2}\.\d{1,2}\.\d{2,4}(?!\d)")
# Extended ISO 8601 calendar dates, optionally with a time and an offset; anything else goes to dateutil.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?!\d)")


# Sources that give a day but no time of day (their candidates are midnight UTC).
DAY_ONLY_SOURCES = frozenset({"url", "dateline"})


@dataclass(frozen=True)
class DateSettings:
    """Source order and sanity bounds, from the run config's ``dates`` block."""

    order: tuple[str, ...]
    max_future_hours: float = 36
    min_year: int = 1980
    zones: Mapping[str, int] = field(default_factory=dict)  # zone abbreviation -> seconds east of UTC


def date_settings(cfg: dict) -> DateSettings:
    """From the run config's ``dates`` block (zone offsets there are in hours)."""
    zones = {name.upper(): round(hours * 3600) for name, hours in cfg.get("zone_abbreviations", {}).items()}
    return DateSettings(order=tuple(cfg["order"]), max_future_hours=cfg["max_future_hours"],
                        min_year=cfg["min_year"], zones=zones)


def parse_datetime(value: object, zones: Mapping[str, int] | None = None) -> datetime | None:
    """A timezone-aware datetime from an ISO/RFC/free-form date string or a datetime; else None.

    The offset the source wrote is kept (the instant is the same as in UTC): the publication day is
    the day in the publisher's zone, not the UTC day, which differs for evening stories. Naive values
    are taken as UTC: a capture that gives no zone says nothing better. Dotted numeric dates
    (``10.12.2022``) are day-first, as everywhere that writes them. ``zones`` gives the offsets of zone
    abbreviations a free-form date may end with ("07:47 PM EST"), in seconds east of UTC.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip() and len(value) <= 100:
        parsed = _iso_datetime(value.strip()) or _free_form_datetime(value.strip(), zones)
        if parsed is None:
            return None
    else:
        return None
    if parsed.year < 2:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _iso_datetime(value: str) -> datetime | None:
    """ISO 8601 as most meta tags and JSON-LD write it, parsed by the standard library (fast path)."""
    if not _ISO_DATE.match(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _free_form_datetime(value: str, zones: Mapping[str, int] | None) -> datetime | None:
    try:
        return dateutil_parser.parse(value, default=datetime(1, 1, 1), dayfirst=bool(_DOTTED_DATE.search(value)),
                                     tzinfos=zones)
    except (ValueError, OverflowError):
        return None


def date_from_url(url: str | None) -> datetime | None:
    """The date a URL path spells (``/2022/07/09/``, ``/20220709/``, ``-2022-07-09-``), else None."""
    if not url:
        return None
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
    except ValueError:
        return None


def date_from_month_day(month: int, day: int, reference: datetime | None) -> datetime | None:
    """The latest date with this month and day not after ``reference`` (a dateline has no year)."""
    if reference is None:
        return None
    for year in (reference.year, reference.year - 1):
        try:
            candidate = datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            continue
        if candidate.date() <= reference.date():
            return candidate
    return None


def choose_published(
    candidates: dict[str, datetime | None], captured_at: datetime | None, settings: DateSettings
) -> tuple[datetime | None, str]:
    """``(published_at, source)`` from candidates keyed by source, in the configured order.

    A candidate dated after the capture (plus a tolerance for time zones and embargoes) or before
    ``min_year`` is skipped as bogus. When a day-only source wins, a later candidate on the same day
    supplies the time (and is named as the source). With nothing usable the result is ``(None, "none")``.
    """
    limit = (captured_at or datetime.now(UTC)) + timedelta(hours=settings.max_future_hours)
    usable = [(source, value) for source in settings.order
              if (value := candidates.get(source)) is not None and settings.min_year <= value.year and value <= limit]
    if not usable:
        return None, "none"
    source, value = usable[0]
    if source in DAY_ONLY_SOURCES:
        # A URL or dateline names only the day; a later source on that same day also knows the time.
        timed = [(v, s) for s, v in usable[1:] if s not in DAY_ONLY_SOURCES and s != "capture_time"]
        return next(((v, s) for v, s in timed if v.date() == value.date()), (value, source))
    return value, source
