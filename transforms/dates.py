"""Publication dates: parse candidate values, give zone-less times the page's zone, and pick the day sources agree on.

A page states its publication date in several places (URL, JSON-LD, meta tags, visible "Published ..."
text, what htmldate finds). They disagree more often than one would hope: a CMS writes local time without
a zone, a republished story keeps its first date, a sidebar date fools a search. So the day is chosen by
agreement between the sources (weighted votes), and within that day the most exact value wins, one with
an explicit offset first. A time without a zone takes the zone the page states elsewhere (another date's
offset, a zone abbreviation in its text, its country-code domain) before UTC.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

# A zone abbreviation dateutil does not know (and `dates.zone_abbreviations` does not list) leaves the time
# as written, zone-less like any time without a zone; said here once rather than warned per page.
warnings.filterwarnings("ignore", category=dateutil_parser.UnknownTimezoneWarning)

_DOTTED_DATE = re.compile(r"(?<!\d)\d{1,2}\.\d{1,2}\.\d{2,4}(?!\d)")
# Extended ISO 8601 calendar dates, optionally with a time and an offset; anything else goes to dateutil.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?!\d)")
_URL_MONTH_NAME_DATE = re.compile(
    r"/((?:19|20)\d{2})/(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*/(0?[1-9]|[12]\d|3[01])(?=/|$)",
    re.IGNORECASE)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_TIME = re.compile(r"(?<!\d)\d{1,2}[:h]\d{2}(?P<seconds>:\d{2})?")
# A time followed by a zone abbreviation in running text ("7:47 PM EST", "09:15 (CET)").
_TIME_AND_ZONE = re.compile(
    r"(?<!\d)\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?\s*\(?(?P<zone>[A-Z]{2,5})\)?(?![A-Za-z])")

DAY, MINUTE, SECOND = "day", "minute", "second"


@dataclass(frozen=True)
class DateCandidate:
    """One source's publication date: the instant, whether the source gave a zone, and how exact it is.

    A zone-less value holds the time as written with no ``tzinfo`` until ``resolve_zone`` gives it one;
    a day-only value (``precision == "day"``) is midnight UTC of that day and needs no zone.
    """

    value: datetime
    zoned: bool
    precision: str
    zone_from: str | None = None  # where a zone-less time got its zone (see ``resolve_zone``)

    @property
    def day(self) -> date:
        """The publication day in the publisher's zone (or as written, for a day)."""
        return self.value.date()


@dataclass(frozen=True)
class DateSettings:
    """Source order, votes and sanity bounds, from the run config's ``dates`` block."""

    order: tuple[str, ...]
    max_future_hours: float = 36
    min_year: int = 1980
    zones: Mapping[str, int] = field(default_factory=dict)  # zone abbreviation -> seconds east of UTC
    weights: Mapping[str, float] = field(default_factory=dict)  # source -> its vote on the day (default 1)
    authoritative: frozenset[str] = frozenset({"record", "sidecar"})
    country_zones: Mapping[str, str] = field(default_factory=dict)  # country-code domain -> IANA zone
    published_words: frozenset[str] = frozenset()  # words before a visible publication date
    derived: frozenset[str] = frozenset()  # sources that search the others again (their echo is no vote)


def date_settings(cfg: dict) -> DateSettings:
    """From the run config's ``dates`` block (zone offsets there are in hours)."""
    zones = {name.upper(): round(hours * 3600) for name, hours in cfg.get("zone_abbreviations", {}).items()}
    return DateSettings(order=tuple(cfg["order"]), max_future_hours=cfg["max_future_hours"],
                        min_year=cfg["min_year"], zones=zones, weights=dict(cfg.get("weights", {})),
                        authoritative=frozenset(cfg.get("authoritative", ("record", "sidecar"))),
                        country_zones=dict(cfg.get("country_zones", {})),
                        published_words=frozenset(word.casefold() for word in cfg.get("published_words", ())),
                        derived=frozenset(cfg.get("derived", ())))


def parse_candidate(value: object, zones: Mapping[str, int] | None = None) -> DateCandidate | None:
    """A ``DateCandidate`` from an ISO/RFC/free-form date string or a datetime; else None.

    The offset the source wrote is kept (the instant is the same as in UTC): the publication day is
    the day in the publisher's zone, not the UTC day, which differs for evening stories. Dotted numeric
    dates (``10.12.2022``) are day-first, as everywhere that writes them. ``zones`` gives the offsets of
    zone abbreviations a free-form date may end with ("07:47 PM EST"), in seconds east of UTC.
    """
    if isinstance(value, datetime):
        parsed, precision = value, SECOND
    elif isinstance(value, str) and value.strip() and len(value) <= 100:
        text = value.strip()
        parsed = _iso_datetime(text) or _free_form_datetime(text, zones)
        if parsed is None:
            return None
        time = _TIME.search(text.split("T", 1)[1] if _ISO_DATE.match(text) and "T" in text else text)
        if time:
            precision = SECOND if time["seconds"] else MINUTE
        elif parsed.time() != datetime.min.time():  # an hour alone ("2000-01-01T01")
            precision = SECOND if parsed.second or parsed.microsecond else MINUTE
        else:
            precision = DAY
    else:
        return None
    if parsed.year < 2:
        return None
    if precision == DAY:
        return DateCandidate(datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC), False, DAY)
    return DateCandidate(parsed, parsed.tzinfo is not None, precision)


def parse_datetime(value: object, zones: Mapping[str, int] | None = None) -> datetime | None:
    """A timezone-aware datetime from a date string or datetime (a zone-less time taken as UTC); else None."""
    candidate = parse_candidate(value, zones)
    if candidate is None:
        return None
    return candidate.value if candidate.value.tzinfo else candidate.value.replace(tzinfo=UTC)


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
    """The date a URL path spells (``/2022/07/09/``, ``/20220709/``, ``/2019/nov/18/``), else None."""
    if not url:
        return None
    match = _URL_DATE.search(url)
    if match:
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        match = _URL_MONTH_NAME_DATE.search(url)
        if not match:
            return None
        year, month, day = int(match[1]), _MONTHS.index(match[2][:3].lower()) + 1, int(match[3])
    try:
        return datetime(year, month, day, tzinfo=UTC)
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


_MONTH_NAME = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
               r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_CLOCK = r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,5}\b)?)?"
# The date forms a visible "Published ..." line writes, each optionally followed by a time and a zone.
_WRITTEN_DATE = re.compile(
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]\d{{2}}:\d{{2}}(?::\d{{2}})?(?:Z|[+-]\d{{2}}:?\d{{2}})?)?"
    rf"|\d{{1,2}}\.\s?\d{{1,2}}\.\s?\d{{4}}{_CLOCK}"
    rf"|\d{{1,2}}/\d{{1,2}}/\d{{4}}{_CLOCK}"
    rf"|{_MONTH_NAME}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}{_CLOCK}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\.?\s+{_MONTH_NAME}\s+\d{{4}}{_CLOCK})",
    re.IGNORECASE)
_PUBLISHED_REACH = 80  # characters after "Published" in which its date must start


def published_in_text(lines: list[str], words: frozenset[str]) -> str | None:
    """The date a visible line writes after a "published" word ("Published: Monday, November 18th, 2019").

    ``lines`` are the page's short text lines in reading order; a line is read with the two after it,
    since pages often put the word and the date in separate elements. ``words`` are folded to lower case.
    """
    for position, line in enumerate(lines):
        lowered = line.casefold()
        for word in words:
            start = lowered.find(word)
            if start < 0:
                continue
            text = " ".join(lines[position:position + 3])[start + len(word):]
            match = _WRITTEN_DATE.search(text[:_PUBLISHED_REACH + 40])
            if match and match.start() <= _PUBLISHED_REACH:
                return match.group().strip(" ,")
    return None


def visible_date(elements: list[str]) -> str | None:
    """The first date a page's date elements write (``<time>``, ``class="date"``), as written."""
    for text in elements:
        match = _WRITTEN_DATE.search(text)
        if match:
            return match.group().strip(" ,")
    return None


def stated_zone(text: str, zones: Mapping[str, int]) -> str | None:
    """The first listed zone abbreviation ``text`` writes after a time ("updated 7:47 PM PST" -> PST)."""
    for match in _TIME_AND_ZONE.finditer(text):
        if match["zone"] in zones:
            return match["zone"]
    return None


def country_zone(country: str | None, settings: DateSettings) -> tzinfo | None:
    """The zone of a country (ISO code of the site's country-code domain), when the config lists one."""
    name = settings.country_zones.get(country.lower()) if country else None
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def resolve_zone(candidates: Mapping[str, DateCandidate | None], settings: DateSettings,
                 text_zone: str | None = None, domain_zone: tzinfo | None = None) -> dict[str, DateCandidate]:
    """The candidates with every zone-less time given the zone the page states elsewhere.

    Tried in turn: the offset of another candidate that wrote one (first by source order), a zone
    abbreviation the page's text writes after a time (``text_zone``), the zone of the site's
    country-code domain, and UTC. ``zone_from`` records which (a source name, ``text``, ``domain``
    or ``utc``).
    """
    present = {source: c for source, c in candidates.items() if c is not None}
    offsets = [(s, c.value.tzinfo) for s in _ordered(present, settings) if (c := present[s]).zoned]
    resolved: dict[str, DateCandidate] = {}
    for source, candidate in present.items():
        if candidate.zoned and domain_zone is not None and candidate.value.utcoffset() == timedelta(0):
            # A CMS that stores UTC says nothing about the publisher's day: read it in the site's zone.
            resolved[source] = replace(candidate, value=candidate.value.astimezone(domain_zone), zone_from="domain")
            continue
        if candidate.zoned or candidate.precision == DAY or candidate.value.tzinfo is not None:
            resolved[source] = candidate
            continue
        if offsets:
            zone_from, zone = offsets[0]
        elif text_zone and text_zone in settings.zones:
            zone_from, zone = "text", timezone(timedelta(seconds=settings.zones[text_zone]))
        elif domain_zone is not None:
            zone_from, zone = "domain", domain_zone
        else:
            zone_from, zone = "utc", UTC
        resolved[source] = replace(candidate, value=candidate.value.replace(tzinfo=zone), zone_from=zone_from)
    return resolved


def _ordered(candidates: Mapping[str, object], settings: DateSettings) -> list[str]:
    """Sources of ``candidates`` in the configured order (unlisted sources last, as given)."""
    rank = {source: position for position, source in enumerate(settings.order)}
    return sorted(candidates, key=lambda source: rank.get(source, len(rank)))


@dataclass(frozen=True)
class Published:
    """The chosen publication instant, its source (with the zone's origin) and its precision."""

    value: datetime | None
    source: str
    precision: str | None


NOTHING = Published(None, "none", None)


def choose_published(candidates: Mapping[str, DateCandidate | None], captured_at: datetime | None,
                     settings: DateSettings) -> Published:
    """The publication date from zone-resolved candidates keyed by source.

    Sources not in ``order`` are ignored; a candidate dated after the capture (plus a tolerance for time
    zones and embargoes) or before ``min_year`` is skipped as bogus. An authoritative source (the
    capture's own record or sidecar) wins outright. Otherwise every page source votes for its day with
    its configured weight and the day with most votes wins (ties: the day of the earliest source in
    ``order``); the capture time counts only when nothing else dates the article, and a zone-less time
    only when no time states its offset. Within that day, a value with an explicit offset beats a
    zone-less one, a time beats a day, and then source order decides. The source is named
    ``source@zone_from`` when the winner's zone came from elsewhere.
    """
    limit = (captured_at or datetime.now(UTC)) + timedelta(hours=settings.max_future_hours)
    usable = {s: c for s, c in candidates.items() if s in settings.order and c is not None
              and settings.min_year <= c.value.year and _aware(c.value) <= limit}
    order = _ordered(usable, settings)
    authoritative = [s for s in order if s in settings.authoritative]
    voters = [s for s in order if s != "capture_time"]
    if authoritative:
        return _published(authoritative[0], usable[authoritative[0]])
    if not voters:
        return _published("capture_time", usable["capture_time"]) if "capture_time" in usable else NOTHING
    guesses: set[date] = set()
    if any(usable[s].zoned and usable[s].precision != DAY for s in voters):
        # A time without a zone is a guess beside one that states its offset: it does not vote.
        guesses = {usable[s].day for s in voters if not usable[s].zoned and usable[s].precision != DAY}
        voters = [s for s in voters if usable[s].zoned or usable[s].precision == DAY]
    # Sources that write the very same instant copy one another (meta tags and JSON-LD filled from one
    # field): together they cast one vote, the heaviest of theirs.
    # A derived source (htmldate, which searches the same tags, URL and text again) repeating another's day
    # is that source's echo and adds nothing either.
    copies: dict[tuple[date, datetime | str], float] = {}
    # (nor on the day of a guess that lost its vote, which it most likely read).
    for source in sorted(voters, key=lambda s: s in settings.derived):
        candidate = usable[source]
        key = (candidate.day, _aware(candidate.value) if candidate.precision != DAY else source)
        if source in settings.derived:
            if candidate.day in guesses and not any(k[0] == candidate.day for k in copies):
                continue
            key = next((k for k in copies if k[0] == candidate.day), key)
        copies[key] = max(copies.get(key, 0.0), settings.weights.get(source, 1.0))
    votes: dict[date, float] = {}
    for (day, _), weight in copies.items():
        votes[day] = votes.get(day, 0.0) + weight
    first_seen = {usable[s].day: -i for i, s in reversed(list(enumerate(voters)))}
    day = max(votes, key=lambda d: (votes[d], first_seen[d]))
    on_day = [s for s in voters if usable[s].day == day]
    best = min(on_day, key=lambda s: (not usable[s].zoned, usable[s].precision == DAY, on_day.index(s)))
    return _published(best, usable[best])


def _published(source: str, candidate: DateCandidate) -> Published:
    name = f"{source}@{candidate.zone_from}" if candidate.zone_from else source
    return Published(_aware(candidate.value), name, candidate.precision)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
