"""Find the dateline that opens a story's first paragraph ("LONDON, June 5 (Reuters) - ...").

A dateline says where (and often when, and through which agency) a story was filed. Getting it wrong is
worse than missing it: a false dateline would eat the first words of the story. So the parser only
accepts a span whose shape is unmistakable (ALL-CAPS wire place, a date, an agency credit) or whose
place the gazetteer can vouch for; everything else returns None. Shapes and thresholds live in
`configs/dateline.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from transforms.agencies import AgencyMatcher
from transforms.gazetteer import Gazetteer, PlaceMatch, fold

DEFAULT_CONFIG = Path(str(resources.files("configs") / "dateline.yaml"))

_LETTERS = r"[^\W\d_]"
_QUOTES = "\"'“‘«"
_WHITESPACE = re.compile(r"\s*")
_TRAILING_COMMAS = re.compile(r"\s*,[\s,.]*$")
_CREDIT = re.compile(r"\(\s*([^()]+?)\s*\)$")
_NAME_WORD = re.compile(_LETTERS + r"[\w'’.&/-]*")
_LETTER_RUN = re.compile(_LETTERS + "+")


@dataclass(frozen=True)
class Dateline:
    """A parsed dateline; ``end`` is where the story text resumes in the paragraph."""

    raw: str
    place: str
    region: str | None
    country: str | None
    country_code: str | None
    agency: str | None
    month: int | None
    day: int | None
    end: int
    year: int | None = None  # only the line form with an ISO date ("LONDON 1996-12-06") prints one


@dataclass(frozen=True)
class DatelineConfig:
    """Compiled patterns and thresholds from `configs/dateline.yaml` (built once, reused per paragraph)."""

    separator: re.Pattern
    month_day: re.Pattern
    day_month: re.Pattern
    month_only: re.Pattern
    date_then_dash: re.Pattern
    month_numbers: dict[str, int]
    max_head_chars: int
    max_place_words: int
    max_qualifier_parts: int
    max_qualifier_words: int
    max_credit_words: int
    leading_marks: str
    bare_place_min_population: int
    particles: frozenset[str]
    not_places: frozenset[str]


@dataclass(frozen=True)
class _Head:
    """The pieces of the text before the separator, before deciding whether it is a dateline."""

    place: str
    qualifiers: tuple[str, ...]
    month: int | None
    day: int | None
    credit: str | None
    agency: str | None
    lowercase: bool = False


def build_dateline_config(settings: dict) -> DatelineConfig:
    """Compile the YAML settings into patterns; see `configs/dateline.yaml` for what each one means."""
    months = {fold(name): int(number) for number, names in settings["months"].items() for name in names}
    month = r"(?<!\w)(?P<month>" + "|".join(map(re.escape, sorted(months, key=len, reverse=True))) + r")\.?"
    day = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?(?!\d)"
    year = r"(?:,?\s+\d{4})?"
    separator = _separator_pattern(settings["dashes"], settings["spaced_dashes"], settings["colon_separator"])
    return DatelineConfig(
        separator=separator,
        month_day=re.compile(rf"(?<=[\s,.]){month},?\s*{day}{year}$", re.IGNORECASE),
        day_month=re.compile(rf"(?<=[\s,.]){day}\s+{month}{year}$", re.IGNORECASE),
        month_only=re.compile(rf",\s*{month}$", re.IGNORECASE),
        date_then_dash=re.compile(rf"{month},?\s+{day}(?={separator.pattern})", re.IGNORECASE),
        month_numbers=months,
        max_head_chars=settings["max_head_chars"],
        max_place_words=settings["max_place_words"],
        max_qualifier_parts=settings["max_qualifier_parts"],
        max_qualifier_words=settings["max_qualifier_words"],
        max_credit_words=settings["max_credit_words"],
        leading_marks=settings.get("leading_marks", ""),
        bare_place_min_population=settings["bare_place_min_population"],
        particles=frozenset(word.casefold() for word in settings["name_particles"]),
        not_places=frozenset(fold(word) for word in settings["not_places"]),
    )


def _separator_pattern(dashes: list[str], spaced: list[str], colon: bool) -> re.Pattern:
    """Whitespace, then one dash (or a colon followed by a space); the dash is group ``sep``."""
    alternatives = []
    for dash in sorted(dashes, key=len, reverse=True):
        escaped = re.escape(dash)
        alternatives.append(rf"(?<=\s){escaped}|{escaped}(?=\s|$)" if dash in spaced else escaped)
    if colon:
        alternatives.append(r"(?<!\s):(?=\s)")
    return re.compile(r"\s*(?P<sep>" + "|".join(alternatives) + ")")


def load_dateline_config(path: str | Path = DEFAULT_CONFIG) -> DatelineConfig:
    """Read and compile a dateline YAML file."""
    with open(path, encoding="utf-8") as handle:
        return build_dateline_config(yaml.safe_load(handle))


_ISO_DATELINE = re.compile(r"(?P<head>[^\d\n]{2,60}?)[\s,]+(?P<year>(?:19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)")


@lru_cache(maxsize=1)
def _default_config() -> DatelineConfig:
    return load_dateline_config(DEFAULT_CONFIG)


def parse_dateline(
    paragraph: str,
    gazetteer: Gazetteer,
    agencies: AgencyMatcher,
    config: DatelineConfig | None = None,
) -> Dateline | None:
    """The dateline opening ``paragraph``, or None when the paragraph does not open with one."""
    config = config or _default_config()
    start = _WHITESPACE.match(paragraph).end()
    line = _ISO_DATELINE.fullmatch(paragraph.strip())
    if line:
        return _iso_dateline(paragraph, line, gazetteer, agencies, config)
    separator = config.separator.search(paragraph, start)
    if separator is None or separator.start() - start > config.max_head_chars:
        return None
    head = _split_head(paragraph[start : separator.start()], agencies, config)
    if head is None:
        return None
    sep_end, head = _absorb_date_after_dash(paragraph, separator.end(), head, config)
    end = _WHITESPACE.match(paragraph, sep_end).end()
    colon = separator.group("sep") == ":"
    if not _is_dateline(head, colon, _resumes_like_a_sentence(paragraph, end), gazetteer, config):
        return None
    return _dateline(paragraph[start:sep_end], head, end, gazetteer, config)


def _iso_dateline(paragraph: str, line: re.Match, gazetteer: Gazetteer, agencies: AgencyMatcher,
                  config: DatelineConfig) -> Dateline | None:
    """A dateline standing alone on its line with an ISO date, as news archives print it ("LONDON 1996-12-06").

    The whole paragraph is the dateline; the place must pass the same checks as a dashed dateline's.
    """
    year, month, day = (int(line.group(g)) for g in ("year", "month", "day"))
    head = _split_head(line.group("head"), agencies, config)
    if head is None or head.month is not None or not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if not _is_dateline(head, False, True, gazetteer, config):
        return None
    dateline = _dateline(paragraph.strip(), replace(head, month=month, day=day), len(paragraph), gazetteer, config)
    return replace(dateline, year=year)


def _split_head(text: str, agencies: AgencyMatcher, config: DatelineConfig) -> _Head | None:
    """Peel credit, date and qualifiers off the text before the separator; None if a piece is malformed."""
    rest = " ".join(text.split()).lstrip(config.leading_marks + " ").rstrip(" ,")
    credit, rest = _take_credit(rest, agencies, config)
    if rest is None:
        return None
    month, day, rest = _take_date(rest, config)
    parts = [part.strip() for part in rest.split(",")]
    place, qualifiers = parts[0], tuple(parts[1:])
    if len(qualifiers) > config.max_qualifier_parts:
        return None
    if not all(
        _is_name(part, config.max_qualifier_words) and _is_capitalised(part, config) for part in qualifiers
    ):
        return None
    if not _is_name(place, config.max_place_words):
        return None
    capitalised = place[0].isupper() and _is_capitalised(place, config)
    agency = agencies.find(credit) if credit and agencies.is_agency(credit) else None
    return _Head(place, qualifiers, month, day, credit, agency, lowercase=not capitalised)


def _take_credit(text: str, agencies: AgencyMatcher, config: DatelineConfig) -> tuple[str | None, str | None]:
    """Split off "(Reuters)" or a trailing ", Reuters"; the remainder is None if the credit is malformed.

    A comma-separated credit must be a known agency, unless it follows a date: nothing but a credit
    comes after the date in a dateline ("WASHINGTON, March 12, Reuter - ").
    """
    match = _CREDIT.search(text)
    if match:
        credit = match.group(1)
        if not _is_credit(credit, config):
            return None, None
        return credit, text[: match.start()].rstrip(" ,")
    head, _, last = text.rpartition(",")
    head, last = head.rstrip(" ,"), last.strip()
    if head and (agencies.is_agency(last) or (_is_credit(last, config) and _ends_with_day(head, config))):
        return last, head
    return None, text


def _is_credit(text: str, config: DatelineConfig) -> bool:
    return bool(text) and text[0].isupper() and len(text.split()) <= config.max_credit_words


def _ends_with_day(text: str, config: DatelineConfig) -> bool:
    return any(pattern.search(text) for pattern in (config.month_day, config.day_month))


def _take_date(text: str, config: DatelineConfig) -> tuple[int | None, int | None, str]:
    """Split a trailing "June 5", "5 June", "Jan. 5, 2024" or ", April" off the head."""
    for pattern in (config.month_day, config.day_month, config.month_only):
        match = pattern.search(text)
        if match is None:
            continue
        day = int(match.group("day")) if "day" in match.groupdict() else None
        if day is not None and not 1 <= day <= 31:
            continue
        month = config.month_numbers[fold(match.group("month"))]
        return month, day, _TRAILING_COMMAS.sub("", text[: match.start()]).rstrip()
    return None, None, text


def _absorb_date_after_dash(
    paragraph: str, position: int, head: _Head, config: DatelineConfig
) -> tuple[int, _Head]:
    """Handle "CHEVY CHASE, Md. - March 4 - ": a date between two dashes still belongs to the dateline."""
    if head.month is not None:
        return position, head
    date = config.date_then_dash.match(paragraph, _WHITESPACE.match(paragraph, position).end())
    if date is None or not 1 <= int(date.group("day")) <= 31:
        return position, head
    dash = config.separator.match(paragraph, date.end())
    month = config.month_numbers[fold(date.group("month"))]
    return dash.end(), replace(head, month=month, day=int(date.group("day")))


def _is_name(text: str, max_words: int) -> bool:
    """Name-shaped: at most ``max_words`` words of letters (and ' . & / -), no digits."""
    words = text.split()
    if not words or len(words) > max_words or any(ch.isdigit() for ch in text):
        return False
    if ".." in text or sum(ch.isalpha() for ch in text) < 2:
        return False
    return all(_NAME_WORD.fullmatch(word) for word in words)


def _is_capitalised(text: str, config: DatelineConfig) -> bool:
    """Every word capitalised except particles ("Rio de Janeiro", "the Netherlands")."""
    return all(word[0].isupper() or _is_particle(word, config) for word in text.split())


def _is_particle(word: str, config: DatelineConfig) -> bool:
    lowered = word.casefold()
    return lowered in config.particles or any(
        lowered.startswith(particle if particle.endswith("'") else particle + "-")
        for particle in config.particles
    )


def _is_all_caps(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def _resumes_like_a_sentence(paragraph: str, end: int) -> bool:
    """Story text after a dateline starts like a sentence: a capital or an opening quote (not a figure,
    which is how table rows such as "Rosario - 6, 5, 7" go on)."""
    return end < len(paragraph) and (paragraph[end].isupper() or paragraph[end] in _QUOTES)


def _is_dateline(
    head: _Head, colon: bool, resumes: bool, gazetteer: Gazetteer, config: DatelineConfig
) -> bool:
    """Decide from the evidence: wire shape (ALL CAPS, date, agency) or a place the gazetteer knows.

    A date or a known agency settles it (as does any credit after an ALL-CAPS place). Otherwise the
    qualifier must be a country or state, or a place standing alone must be known to the gazetteer -
    and, when written in mixed case, be a well-known place followed by a sentence.
    """
    strong = head.day is not None or head.agency is not None
    if head.lowercase:
        return _is_lowercase_wire_dateline(head, colon, gazetteer)
    if fold(head.place.split()[0]) in config.not_places and not strong:
        return False
    qualifier_code = (
        gazetteer.qualifier_country(", ".join(head.qualifiers), head.place) if head.qualifiers else None
    )
    if qualifier_code and _is_list_of_countries(head, gazetteer):
        return False
    place = gazetteer.lookup_place(head.place)
    if colon:
        return resumes and (qualifier_code is not None or _is_prominent(place, config))
    if strong or (head.credit is not None and _is_all_caps(head.place)):
        return True
    if head.qualifiers and _is_all_caps(head.place):
        return qualifier_code is not None or place is not None
    if head.qualifiers:
        # "First Bancorp, Troy, N.C. - " is a company listing: an unknown place takes one qualifier only.
        return qualifier_code is not None and (place is not None or len(head.qualifiers) == 1)
    if _is_all_caps(head.place):
        return place is not None
    return resumes and _is_prominent(place, config)


def _is_lowercase_wire_dateline(head: _Head, colon: bool, gazetteer: Gazetteer) -> bool:
    """Some desks file in lower case ("la paz, march 4 - "); trust that only with a date and a known place."""
    return not colon and head.day is not None and gazetteer.lookup_place(head.place) is not None


def _is_list_of_countries(head: _Head, gazetteer: Gazetteer) -> bool:
    """ "France, Germany - ..." lists countries; no country is qualified by another country."""
    return gazetteer.is_country(head.place) and gazetteer.is_country(head.qualifiers[-1])


def _is_prominent(place: PlaceMatch | None, config: DatelineConfig) -> bool:
    """Known well enough to stand alone as a dateline without a date, agency or qualifier."""
    if place is None:
        return False
    return (
        place.kind in ("alias", "country")
        or place.capital
        or place.population >= config.bare_place_min_population
    )


def _dateline(raw: str, head: _Head, end: int, gazetteer: Gazetteer, config: DatelineConfig) -> Dateline:
    region = ", ".join(head.qualifiers) or None
    resolved = gazetteer.resolve(head.place, region)
    return Dateline(
        raw=raw,
        place=_display_place(head.place, gazetteer, config),
        region=region,
        country=resolved[0] if resolved else None,
        country_code=resolved[1] if resolved else None,
        agency=head.agency,
        month=head.month,
        day=head.day,
        end=end,
    )


def _display_place(place: str, gazetteer: Gazetteer, config: DatelineConfig) -> str:
    """ALL-CAPS places in the gazetteer's spelling ("Rio de Janeiro") or title case; others as written."""
    if not _is_all_caps(place):
        return place
    return gazetteer.spelling(place) or _title_case(place, config.particles)


def _title_case(text: str, particles: frozenset[str]) -> str:
    """ "DALLAS/FORT WORTH" -> "Dallas/Fort Worth", "PORT OF SPAIN" -> "Port of Spain", "ST JOHN'S" ok."""

    def word(match: re.Match) -> str:
        token = match.group(0).lower()
        after_apostrophe = match.start() > 0 and text[match.start() - 1] in "'’"
        if (match.start() > 0 and token in particles and text[match.start() - 1] == " ") or (
            after_apostrophe and len(token) == 1
        ):
            return token
        return token.capitalize()

    return _LETTER_RUN.sub(word, text)
