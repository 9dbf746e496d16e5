"""From one capture to one article record (everything but entities, which are batched separately).

``Enricher`` holds the compiled rules, built once per worker; ``build_article`` is a plain function
of a capture and an enricher, so notebooks and tests use it without Beam.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from transforms.agencies import AgencyMatcher, build_agency_matcher
from transforms.byline import parse_byline
from transforms.dateline import Dateline, DatelineConfig, build_dateline_config, parse_dateline
from transforms.dates import (
    DAY,
    SECOND,
    DateCandidate,
    DateSettings,
    Published,
    choose_published,
    country_zone,
    date_from_month_day,
    date_from_url,
    date_settings,
    parse_candidate,
    published_in_text,
    resolve_zone,
    stated_zone,
    visible_date,
)
from transforms.domains import country_domain
from transforms.furniture import compile_rules
from transforms.gazetteer import Gazetteer
from transforms.html_page import ExtractionSettings, HtmlExtract, extract_html
from transforms.identity import article_id, canonical_url, identifying_url, sha256_hex
from transforms.language import LanguageSettings, detect_language, seed_detector
from transforms.layout import LayoutRules, TextLayout, layout_text
from transforms.page_blocks import BlockRules
from transforms.records import Capture, Rejection
from transforms.sections import (
    INFERRED,
    URL_SOURCE,
    SectionChoice,
    SectionIndex,
    choose_section,
    fold,
    infer_section,
    place_desk,
    section_from_url,
    url_labels,
)
from transforms.title import choose_headline, is_site_name
from transforms.words import count_words


@dataclass
class Enricher:
    """Compiled rules and gazetteers for cleaning and enrichment; heavy, so built in ``DoFn.setup``."""

    layout: LayoutRules
    sections: SectionIndex
    agencies: AgencyMatcher
    gazetteer: Gazetteer
    dateline: DatelineConfig
    dates: DateSettings
    language: LanguageSettings
    extraction: ExtractionSettings
    min_words: int
    title_labels: frozenset[str]

    @classmethod
    def from_config(cls, cfg: dict) -> Enricher:
        """Build from a loaded run config (see `pipeline/config.py`)."""
        sections = SectionIndex.from_config(cfg["sections"])
        boilerplate = cfg["boilerplate"]
        language = LanguageSettings(**cfg["language"])
        seed_detector(language)
        return cls(
            layout=LayoutRules.from_config(boilerplate, compile_rules(boilerplate["furniture"]), sections),
            sections=sections,
            agencies=build_agency_matcher(cfg["agencies"]["agencies"]),
            gazetteer=Gazetteer.shared(cfg["gazetteer"]),
            dateline=build_dateline_config(cfg["dateline"]),
            dates=date_settings(cfg["dates"]),
            language=language,
            extraction=ExtractionSettings(favor_precision=cfg["extraction"]["favor_precision"],
                                          include_tables=cfg["extraction"]["include_tables"],
                                          fast=cfg["extraction"].get("fast", False),
                                          kept_blocks=BlockRules.from_config(boilerplate["kept_blocks"])),
            min_words=cfg["extraction"]["min_words"],
            title_labels=frozenset(fold(label) for label in boilerplate["title_labels"]),
        )

    def is_title_label(self, part: str) -> bool:
        """A part of a page title that names a section or kind of piece ("Opinion", "Editorial")."""
        return self.sections.known(part) is not None or fold(part) in self.title_labels

    def find_dateline(self, paragraph: str) -> Dateline | None:
        """The dateline opening ``paragraph``, if any."""
        return parse_dateline(paragraph, self.gazetteer, self.agencies, self.dateline)


def build_article(capture: Capture, enricher: Enricher) -> tuple[dict | None, Rejection | None, list[str]]:
    """``(article, None, removed_rules)`` for a usable capture, else ``(None, rejection, removed_rules)``.

    ``removed_rules`` names the furniture rule of every line removed, for counters.
    """
    page = HtmlExtract()
    if capture.kind == "html":
        extracted = extract_html(capture.content, capture.url, enricher.extraction)
        if extracted is None:
            return None, Rejection(capture.source_uri, "unparseable_html", "no HTML document could be parsed",
                                   stage="extract"), []
        page = extracted
        headline = choose_headline(page.headlines, page.site_name, capture.url, enricher.is_title_label)
        layout = layout_text(page.text, enricher.layout, known_title=headline, opens_body=enricher.find_dateline)
    else:
        layout = layout_text(capture.content, enricher.layout, opens_body=enricher.find_dateline)
    removed = [rule for rule, _ in layout.removed]

    dateline = enricher.find_dateline(layout.paragraphs[0]) if layout.paragraphs else None
    paragraphs = _without_dateline(layout.paragraphs, dateline)
    body = "\n\n".join(paragraphs)
    words = count_words(body)
    if words < enricher.min_words:
        reason = "only_furniture" if layout.removed else "no_article_text"
        detail = f"{words} words of article text left after cleaning ({len(layout.removed)} furniture lines removed)"
        return None, Rejection(capture.source_uri, reason, detail, stage="clean"), removed

    identity = identifying_url(page.canonical_url, capture.url)  # None: the body identifies the article
    url = identity or capture.url
    published = _published(capture, page, dateline, url, enricher.dates)
    published_at = published.value
    day = published_at or capture.captured_at
    if day is None:
        return None, Rejection(capture.source_uri, "no_date", "Nothing dates the article: no publication date, and "
                               "no usable capture time (record, WARC-Date, sidecar or file time, after the "
                               "configured min_capture_year)",
                               stage="enrich"), removed
    section = _section(capture, page, layout, paragraphs, url, enricher.sections, enricher.gazetteer)
    byline = "; ".join(dict.fromkeys(layout.bylines)) or _text_or_none(page.author)
    people = parse_byline(byline, enricher.layout.people, enricher.agencies)
    people.names = [name for name in people.names if not is_site_name(name, page.site_name, capture.url)]
    if not people.names and not people.agency:
        byline = None  # no name and no agency in it: text that is not a byline
    agency = people.agency or (dateline.agency if dateline else None)
    language, confidence = detect_language(body, enricher.language)
    article = {
        "article_id": article_id(identity, body),
        "url": canonical_url(url) or url,
        "source_url": capture.url,
        "source_uri": capture.source_uri,
        "captured_at": capture.captured_at,
        "captured_at_source": capture.captured_at_source,
        "published_at": published_at,
        "date_source": published.source,
        "published_precision": published.precision,
        "date": day.date(),
        "section": section.section,
        "section_source": section.source,
        "section_label": section.label,
        "title": layout.title,
        "byline": byline,
        "authors": people.names,
        "agency": agency,
        "site_name": page.site_name,
        "body": body,
        "word_count": words,
        "language": language,
        "language_confidence": confidence,
        "dateline": dateline.raw if dateline else None,
        "dateline_place": dateline.place if dateline else None,
        "dateline_country": dateline.country if dateline else None,
        "dateline_country_code": dateline.country_code if dateline else None,
        "furniture_removed": dict(Counter(removed)),
        "content_hash": sha256_hex(body),
    }
    return article, None, removed


def _without_dateline(paragraphs: list[str], dateline: Dateline | None) -> list[str]:
    """The paragraphs with the dateline cut from the first one (dropped if nothing else is left)."""
    if dateline is None:
        return paragraphs
    rest = paragraphs[0][dateline.end:].strip()
    return ([rest] if rest else []) + paragraphs[1:]


def _published(capture: Capture, page: HtmlExtract, dateline: Dateline | None, url: str | None,
               settings: DateSettings) -> Published:
    candidates = {source: parse_candidate(value, settings.zones) for source, value in page.dates.items()}
    candidates["text"] = parse_candidate(published_in_text(page.date_lines, settings.published_words), settings.zones)
    candidates["visible"] = parse_candidate(visible_date(page.dated_elements), settings.zones)
    if capture.published_hint_source:
        candidates[capture.published_hint_source] = parse_candidate(capture.published_hint, settings.zones)
    candidates["url"] = _day(date_from_url(url) or date_from_url(capture.url))
    if dateline and dateline.month and dateline.day:
        candidates["dateline"] = _day(datetime(dateline.year, dateline.month, dateline.day, tzinfo=UTC)
                                      if dateline.year else
                                      date_from_month_day(dateline.month, dateline.day, capture.captured_at))
    if capture.captured_at:
        candidates["capture_time"] = DateCandidate(capture.captured_at, True, SECOND)
    text_zone = stated_zone(" ".join(page.date_lines) if capture.kind == "html" else capture.content[:2000],
                            settings.zones)
    resolved = resolve_zone(candidates, settings, text_zone, country_zone(country_domain(url or capture.url), settings))
    return choose_published(resolved, capture.captured_at, settings)


def _day(value: datetime | None) -> DateCandidate | None:
    """A source that names only a day (a URL path, a dateline)."""
    return DateCandidate(value, False, DAY) if value else None


def _section(capture: Capture, page: HtmlExtract, layout: TextLayout, paragraphs: list[str], url: str | None,
             index: SectionIndex, gazetteer: Gazetteer) -> SectionChoice:
    candidates: dict[str, str | list[str] | None] = dict(page.sections)
    candidates["breadcrumb"] = layout.breadcrumb
    links = (url, capture.url)
    candidates[URL_SOURCE] = next((url_labels(link) for link in links if section_from_url(link, index)), [])
    if capture.section_hint_source:
        candidates[capture.section_hint_source] = capture.section_hint
    places = partial(place_desk, gazetteer=gazetteer, site_country=country_domain(url or capture.url))
    choice = choose_section(candidates, index, places)
    if choice.source != "none" or index.inference is None:
        return choice
    inferred = infer_section(layout.title, " ".join(paragraphs), url or capture.url, index.inference)
    return SectionChoice(inferred, INFERRED, choice.label) if inferred else choice


def _text_or_none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None
