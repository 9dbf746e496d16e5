"""The ``section`` partition key: page labels mapped onto a closed desk taxonomy, or inferred from the text.

The partition takes only the configured desks (`configs/sections.yaml`) plus the fallback, so a year of
crawl has at most that many section folders however oddly sites name their sections. The page's own
label is kept beside it (``section_label``). Labels map through a multilingual alias table; every crumb
of a trail and every URL path segment is tried. When no label of any source maps, the desk is inferred
from weighted terms in the title, lead and URL words (transparent tables in the same config file), and
only an unconfident inference leaves the fallback.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote, urlsplit

from transforms.domains import archived_original, host_prefix, site_name
from transforms.gazetteer import Gazetteer

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_WORD = re.compile(r"[^\w&]+")
# Between the parts of one label: breadcrumb arrows, slashes, bars, commas ("Politics, News").
_LABEL_PARTS = re.compile(r"\s*(?:[>›»/|→,;]|::)\s*")
# Between the items of a list ("Mundo, América"), whose first item is the main one; within an item,
# the trail separators of ``_LABEL_PARTS`` run from the broad to the specific.
_LIST_ITEMS = re.compile(r"\s*[,;]\s*")
_WORD = re.compile(r"\w+(?:['’]\w+)?")
# Han, kana, Hangul: scripts written without spaces, where a term is matched as a substring.
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_URL_SEGMENT_MAX_WORDS = 4  # a longer path segment is an article's slug, not a section
# A last segment that is a section name and a story number ("world-us-canada-52241221").
_ID_SUFFIXED = re.compile(r"(?:[A-Za-z]+-){1,3}\d{5,}")
URL_SOURCE = "url_path"
INFERRED = "inferred"


def fold(label: str) -> str:
    """Case- and accent-free, single-spaced form of a label in any script, used as the lookup key.

    Punctuation becomes a space except ``&`` ("Arts & Culture"); letters of every script are kept, so
    "Спорт", "国际" and "Économie" fold to "спорт", "国际" and "economie".
    """
    decomposed = unicodedata.normalize("NFKD", label)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().replace("_", " ")
    return " ".join(_NOT_WORD.sub(" ", bare.replace("&", " & ")).split())


@dataclass(frozen=True)
class Inference:
    """Weighted terms per desk and how sure a guess must be (``inference`` in `configs/sections.yaml`)."""

    terms: Mapping[str, Mapping[str, float]]  # desk -> folded term -> weight
    field_weights: Mapping[str, float]  # title / lead / url -> how much a term found there counts
    lead_words: int
    min_score: float
    min_margin: float  # the best desk's score over the runner-up's

    @classmethod
    def from_config(cls, cfg: dict, desks: tuple[str, ...]) -> Inference:
        terms: dict[str, dict[str, float]] = {}
        for desk, weighted in cfg["terms"].items():
            if desk not in desks:
                raise ValueError(f"sections inference: {desk!r} is not a desk of the taxonomy")
            terms[desk] = {fold(term) if not term.endswith("*") else fold(term[:-1]) + "*": float(weight)
                           for weight, words in weighted.items() for term in words}
        return cls(terms, dict(cfg["field_weights"]), int(cfg["lead_words"]), float(cfg["min_score"]),
                   float(cfg["min_margin"]))

    @cached_property
    def matchers(self) -> dict[str, TermMatcher]:
        """Each desk's terms sorted by how they match, built once: scoring a page then looks its words up
        instead of trying every term of every desk."""
        return {desk: TermMatcher.of(terms) for desk, terms in self.terms.items()}


@dataclass(frozen=True)
class TermMatcher:
    """One desk's weighted terms by kind: whole words, word stems (``term*``), phrases of several words,
    and terms in unspaced scripts (matched as substrings)."""

    words: Mapping[str, float]
    stems: tuple[tuple[str, float], ...]
    phrases: tuple[tuple[str, float], ...]
    unspaced: tuple[tuple[str, float], ...]

    @classmethod
    def of(cls, terms: Mapping[str, float]) -> TermMatcher:
        words: dict[str, float] = {}
        stems, phrases, unspaced = [], [], []
        for term, weight in terms.items():
            if _UNSPACED.search(term):
                unspaced.append((term, weight))
            elif term.endswith("*"):
                stems.append((term[:-1], weight))
            elif " " in term:
                phrases.append((f" {term} ", weight))
            else:
                words[term] = weight
        return cls(words, tuple(stems), tuple(phrases), tuple(unspaced))

    def score(self, words: set[str], prefixes: set[str], folded: str) -> float:
        """The summed weight of the distinct terms found in a text (its words, their prefixes, its folded
        form)."""
        padded = f" {folded} "
        return (sum(self.words[word] for word in words if word in self.words)
                + sum(weight for stem, weight in self.stems if stem in prefixes)
                + sum(weight for phrase, weight in self.phrases if phrase in padded)
                + sum(weight for term, weight in self.unspaced if term in folded))


@dataclass(frozen=True)
class SectionIndex:
    """The desk taxonomy, its aliases (folded label -> desk) and the inference tables."""

    desks: tuple[str, ...]
    aliases: Mapping[str, str]
    order: tuple[str, ...]
    inference: Inference | None = None
    fallback: str = "unknown"

    @classmethod
    def from_config(cls, cfg: dict) -> SectionIndex:
        """From `configs/sections.yaml`; an alias listed under two desks is an error, not a silent pick."""
        desks = tuple(cfg["taxonomy"])
        fallback = cfg.get("fallback", "unknown")
        for slug in (*desks, fallback):
            if not _SLUG.fullmatch(slug):
                raise ValueError(f"sections: {slug!r} is not a folder-safe slug ([a-z0-9-])")
        aliases: dict[str, str] = {}
        for desk, languages in cfg["aliases"].items():
            if desk not in desks:
                raise ValueError(f"sections aliases: {desk!r} is not a desk of the taxonomy")
            for label in [desk, *(label for labels in languages.values() for label in labels)]:
                key = fold(str(label))
                if aliases.setdefault(key, desk) != desk:
                    raise ValueError(f"sections aliases: {label!r} is listed under {aliases[key]!r} and {desk!r}")
        inference = Inference.from_config(cfg["inference"], desks) if cfg.get("inference") else None
        return cls(desks, aliases, tuple(cfg["order"]), inference, fallback)

    def known(self, label: str) -> str | None:
        """The desk one label names ("Wirtschaft" -> business), else None."""
        return self.aliases.get(fold(label))

    def desk_of(self, label: str | None) -> str | None:
        """The desk ``label`` names: the deepest of its trail ("Home › Politics › World" -> world), in the
        first item of a list that names one ("Mundo, América" -> world)."""
        desks = self.trail_desks(label)
        return desks[-1][0] if desks else None

    def trail_desks(self, label: str | None) -> list[tuple[str, str]]:
        """``(desk, part)`` for each part that names a desk, broad to specific, of the first list item of
        ``label`` with any."""
        for item in _LIST_ITEMS.split(label or ""):
            desks = [(desk, part) for part in label_parts(item) if (desk := self.known(part))]
            if desks:
                return desks
        return []


def label_parts(label: str | None) -> list[str]:
    """The parts of a label or trail as written, without blanks ("Arts › Books" -> ["Arts", "Books"])."""
    if not label:
        return []
    return [part for part in _LABEL_PARTS.split(label.strip()) if fold(part)]


def url_labels(url: str | None) -> list[str]:
    """The labels a page's address gives its section, broad to specific: the host's labels before the
    site's name (``sport.orf.at``; two-letter labels are language or country editions), then the path's
    folders. The article's own segment counts only as a section name followed by a story number. A
    web-archive address is read as the address it archives."""
    url = archived_original(url)
    if not url:
        return []
    try:
        segments = unquote(urlsplit(url).path).split("/")
    except ValueError:
        return []
    folders = segments[:-1] + ([segments[-1]] if _ID_SUFFIXED.fullmatch(segments[-1]) else [])
    return [label for label in host_prefix(url) if len(label) > 2] + [segment for segment in folders if segment]


def section_from_url(url: str | None, index: SectionIndex) -> tuple[str, str] | None:
    """``(desk, label)`` of the deepest label of the address (``url_labels``) that names a desk."""
    found = [(desk, label) for label in url_labels(url) if (desk := segment_desk(label, index))]
    return found[-1] if found else None


def segment_desk(segment: str, index: SectionIndex) -> str | None:
    """The desk a URL path segment names, tried whole, then by ever shorter leading words.

    So a site's compound section names still map ("science-and-health" -> science, "world-us-canada"
    -> world); a segment of many words is an article's slug and names none.
    """
    words = fold(segment).split()
    if len(words) > _URL_SEGMENT_MAX_WORDS:
        return None
    for end in range(len(words), 0, -1):
        desk = index.aliases.get(" ".join(words[:end]))
        if desk:
            return desk
    return None


@dataclass(frozen=True)
class SectionChoice:
    """The partition desk, the source that decided it, and the page's own label as written."""

    section: str
    source: str
    label: str | None


def choose_section(candidates: Mapping[str, str | Sequence[str] | None], index: SectionIndex,
                   places: Callable[[str], str | None] | None = None) -> SectionChoice:
    """The desk from raw labels keyed by source (one label, or several a source gave), in the configured order.

    Each label is a trail ("Home › Politik › Ausland"; the ``url_path`` value is the address's labels,
    see ``url_labels``) and names its deepest desk. The first label that names one wins, even after a
    source whose label does not (an odd site name in the breadcrumb, a desk in the URL), unless another
    trail passes through that desk to a deeper one: meta "Politik" and ``/politik/international/`` say
    world. Only when no label maps through the aliases, ``places`` (see ``place_desk``) may map a
    label that names a place. With none, the fallback, with the first label any source gave (see
    ``infer_section`` for what the caller may do then).
    """
    trails = [_trail(source, label, index) for source in index.order for label in _source_labels(source, candidates)]
    for source, label, desks in trails:
        if desks:
            return _refined(SectionChoice(desks[-1][0], source, desks[-1][1] if source == URL_SOURCE else label),
                            trails)
    for source, label, _ in trails if places else ():
        desk = next(filter(None, map(places, label_parts(label))), None) if source != URL_SOURCE else None
        if desk:
            return SectionChoice(desk, source, label)
    return SectionChoice(index.fallback, "none", trails[0][1] if trails else None)


def _source_labels(source: str, candidates: Mapping[str, str | Sequence[str] | None]) -> list[str]:
    """One source's labels; the address's labels are one trail, joined with "/"."""
    labels = [label.strip() for label in _labels(candidates.get(source))]
    return ["/".join(labels)] if source == URL_SOURCE and labels else labels


def _trail(source: str, label: str, index: SectionIndex) -> tuple[str, str, list[tuple[str, str]]]:
    """``(source, label, [(desk, part), …])`` for the parts of a trail that name a desk, broad to specific."""
    if source == URL_SOURCE:
        parts = [part for part in label.split("/") if part]
        return source, label, [(desk, part) for part in parts if (desk := segment_desk(part, index))]
    return source, label, index.trail_desks(label)


def _refined(choice: SectionChoice, trails: list[tuple[str, str, list[tuple[str, str]]]]) -> SectionChoice:
    """``choice``, or the deeper desk of a trail that passes through ``choice``'s desk."""
    for source, label, desks in trails:
        found = [desk for desk, _ in desks]
        if choice.section in found[:-1] and found[-1] != choice.section:
            return SectionChoice(found[-1], source, desks[-1][1] if source == URL_SOURCE else label)
    return choice


def _labels(value: str | Sequence[str] | None) -> list[str]:
    """The usable labels of one source's value."""
    values = [value] if isinstance(value, str) else list(value or ())
    return [label for label in values if isinstance(label, str) and label_parts(label)]


def place_desk(label: str, gazetteer: Gazetteer, site_country: str | None) -> str | None:
    """The desk of a section named after a place: the site's own country is national, another country
    world; a city or state is local, unless it lies in another country than the site's (world).

    ``site_country`` is the ISO code of the site's country-code domain, None for generic domains.
    """
    if gazetteer.is_country(label):
        code = gazetteer.resolve(label)
        return "national" if code and code[1] == site_country else "world"
    match = gazetteer.lookup_place(label)
    code = match.code if match and match.kind != "country" else gazetteer.qualifier_country(label)
    if code is None:
        return None
    return "local" if site_country in (None, code) else "world"


def infer_section(title: str | None, lead: str, url: str | None, inference: Inference) -> str | None:
    """The desk whose weighted terms score highest in the title, lead and URL words, if clearly ahead.

    Each distinct term counts once per field, times the field's weight; a term ending in ``*`` matches
    any word it starts. Terms in unspaced scripts (Chinese, Japanese) match as substrings. None when the
    best score is below ``min_score`` or not ``min_margin`` times the runner-up's.
    """
    lead_words = lead.split()[:inference.lead_words]
    fields = {"title": title or "", "lead": " ".join(lead_words), "url": _url_words(url)}
    scores = dict.fromkeys(inference.terms, 0.0)
    for name, text in fields.items():
        weight = inference.field_weights.get(name, 0.0)
        if not weight or not text:
            continue
        folded = fold(text)
        words = set(_WORD.findall(folded))
        prefixes = {word[:end] for word in words for end in range(len(word) + 1)}
        for desk, matcher in inference.matchers.items():
            scores[desk] += weight * matcher.score(words, prefixes, folded)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    if not ranked:
        return None
    (best, top), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    if top < inference.min_score or top < inference.min_margin * runner_up:
        return None
    return best


def _url_words(url: str | None) -> str:
    """The words of a URL: the site's name and the host's labels before it ("leichtathletik" says
    sports), then its path (section folders and slug), without the query; a web-archive address is read
    as the address it archives."""
    url = archived_original(url)
    if not url:
        return ""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return ""
    return " ".join([site_name(url) or "", *host_prefix(url), *path.replace("-", " ").replace("/", " ").split()])
