"""From a byline as printed to the people who wrote the story, and the agency it names.

A printed byline mixes names with what is not a name: a lead word ("By", "Von", "Текст"), credit
lines ("Reporting by ...; Editing by ..."), roles ("AP Sports Writer"), degrees ("MS, RDN"), time
stamps ("Published"), organisations ("Detroit News wire services"). The parts are split, the known
kinds dropped (an agency in a credit or role fills ``agency``), and only name-shaped parts are kept,
so a sentence of body text that landed in a byline yields no author. Word lists live in
`configs/boilerplate.yaml` (``authors``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from transforms.agencies import AgencyMatcher

_PARENTHESES = re.compile(r"\(([^()]*)\)")
_CREDIT = re.compile(r"^(?P<role>[^\W\d_]+(?: [^\W\d_]+)?) by:?\s+(?P<who>.+)$", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W\d_][\w'’.-]*")


@dataclass(frozen=True)
class BylineRules:
    """Compiled word lists of the ``authors`` section of `configs/boilerplate.yaml`."""

    lead_words: re.Pattern
    trailing_words: re.Pattern
    separators: re.Pattern
    author_roles: frozenset[str]
    role_words: frozenset[str]
    degrees: frozenset[str]
    organisation_words: frozenset[str]
    placeholders: frozenset[str]
    never_first: frozenset[str]
    particles: frozenset[str]
    max_name_words: int

    @classmethod
    def from_config(cls, cfg: dict) -> BylineRules:
        def words(key: str) -> frozenset[str]:
            return frozenset(word.casefold() for word in cfg[key])

        def alternatives(key: str) -> str:
            return "|".join(sorted(cfg[key], key=len, reverse=True))

        return cls(
            lead_words=re.compile(rf"^(?:(?:{alternatives('lead_words')})\b[\s:,.-]*)+", re.IGNORECASE),
            trailing_words=re.compile(rf"(?:[\s,|-]*\b(?:{alternatives('trailing_words')})\b.*)$", re.IGNORECASE),
            separators=re.compile(rf"\s*(?:[;,|/·•]|\s(?:{alternatives('conjunctions')})\s)\s*", re.IGNORECASE),
            author_roles=words("author_roles"),
            role_words=words("role_words"),
            degrees=words("degrees"),
            organisation_words=words("organisation_words"),
            placeholders=words("placeholders"),
            never_first=words("never_first"),
            particles=words("name_particles"),
            max_name_words=cfg["max_name_words"],
        )


@dataclass
class Authors:
    """The people a byline names, in order, and the agency it credits (canonical name), if any."""

    names: list[str] = field(default_factory=list)
    agency: str | None = None


def parse_byline(byline: str | None, rules: BylineRules, agencies: AgencyMatcher | None = None) -> Authors:
    """The authors and agency of ``byline``; no names when nothing in it is shaped like a name.

    Without ``agencies`` no agency is recognised (an agency's name then reads as a name).
    """
    found = Authors()
    if not byline or not byline.strip():
        return found
    for segment in _segments(byline, rules):
        for part in rules.separators.split(segment):
            _read_part(part, rules, agencies, found)
    if not found.names and not found.agency and _is_handle(byline):
        found.names.append(byline.strip())
    found.names = list(dict.fromkeys(found.names))
    return found


def _segments(byline: str, rules: BylineRules) -> list[str]:
    """The byline split at semicolons, brackets opened; credit segments kept only for authorship roles."""
    text = _PARENTHESES.sub(lambda m: f"; {m.group(1)};", " ".join(byline.split()))
    segments = []
    for segment in text.split(";"):
        segment = segment.strip(" ,.-")
        credit = _CREDIT.match(segment)
        if credit:
            if credit.group("role").casefold() not in rules.author_roles:
                continue
            segment = credit.group("who")
        segment = rules.trailing_words.sub("", rules.lead_words.sub("", segment)).strip(" ,.-:")
        if segment:
            segments.append(segment)
    return segments


def _read_part(part: str, rules: BylineRules, agencies: AgencyMatcher | None, found: Authors) -> None:
    """File one comma/semicolon-separated piece: agency, role, degree, organisation or name."""
    part = rules.lead_words.sub("", part.strip(" ,.-:")).strip(" ,.-:")
    if not part:
        return
    agency, part = _agency(part, agencies)
    found.agency = found.agency or agency
    words = [word.casefold().strip(".") for word in part.split()]
    if not words or any(word in rules.role_words for word in words):
        return
    if part.casefold().replace(".", "") in rules.degrees | rules.placeholders:
        return
    if any(word in rules.organisation_words for word in words):
        return
    if _is_name(part, rules):
        found.names.append(part)


def _agency(part: str, agencies: AgencyMatcher | None) -> tuple[str | None, str]:
    """The agency named in ``part`` (also when a page title-cased it: "Ap Sports Writer"), and the
    part without the agency's name."""
    if agencies is None:
        return None, part
    match = agencies.pattern.search(part)
    if match:
        return agencies.names[match.group(0)], (part[:match.start()] + part[match.end():]).strip(" ,.-:")
    words = part.split()
    for index, word in enumerate(words):
        if agencies.is_agency(word.upper()):
            return agencies.find(word.upper()), " ".join(words[:index] + words[index + 1:])
    return None, part


def _is_name(text: str, rules: BylineRules) -> bool:
    """A person's name: a few words, each capitalised (or a name particle), no digits, no article first.

    Scripts without case (Chinese, Japanese, Arabic...) pass on the word count alone.
    """
    words = text.split()
    if not 1 <= len(words) <= rules.max_name_words or any(ch.isdigit() for ch in text):
        return False
    if words[0].casefold() in rules.never_first or not all(_NAME_WORD.fullmatch(word) for word in words):
        return False
    if not any(sum(ch.isalpha() for ch in word) >= 2 for word in words):  # "V" of "e. V." is no name
        return False
    cased = [word for word in words if word[0].isupper() or word[0].islower()]
    capitalised = [word for word in cased if word[0].isupper() or word.casefold() in rules.particles]
    return len(capitalised) == len(cased) and (not cased or cased[0][0].isupper())


def _is_handle(byline: str) -> bool:
    """A single-word user name ("gizzmo", "reader_42"), as forums and blogs print for their authors."""
    text = byline.strip()
    return bool(re.fullmatch(r"[\w.-]{3,30}", text)) and any(ch.isalpha() for ch in text)
