"""HTML pages: main text and metadata through trafilatura, with the provenance of dates and sections.

The page is parsed once. Structured metadata (JSON-LD, meta tags, canonical link) and trafilatura's
metadata (`page_metadata`) are read from the tree first, then the same tree goes to trafilatura, which
extracts the main text from a copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import trafilatura
from lxml import html as lxml_html
from trafilatura.utils import load_html

from transforms.page_blocks import BlockRules, restore_blocks
from transforms.page_metadata import categories, page_metadata

_ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "blogposting", "analysisnewsarticle",
                  "opinionnewsarticle", "backgroundnewsarticle", "webpage", "liveblogposting", "report"}
_DATE_META = ("article:published_time", "og:published_time", "og:article:published_time",
              "datepublished", "pubdate", "publishdate", "publish-date", "publish_date", "dc.date.issued",
              "dcterms.created", "dc.date", "date", "sailthru.date", "parsely-pub-date", "article.published",
              "cxenseparse:recs:publishtime")
_DATE_LINE_MAX_CHARS = 200
_DATE_LINES_KEPT = 60
_DATED_ELEMENTS_KEPT = 5
_DATED_XPATH = ("//body//time | //body//*[contains(translate(@class, 'DATE', 'date'), 'date') "
                "or contains(translate(@itemprop, 'DATE', 'date'), 'date')][not(self::script or self::style)]")
_SECTION_META = ("article:section", "og:article:section", "section", "parsely-section", "cxenseparse:section",
                 "sailthru.section", "category", "dc.subject")
_HEADLINE_META = ("og:title", "twitter:title")


@dataclass(frozen=True)
class ExtractionSettings:
    favor_precision: bool = False
    include_tables: bool = False
    fast: bool = False  # trafilatura without its fallback extractors (readability, jusText)
    kept_blocks: BlockRules = BlockRules()  # article blocks the extraction leaves out, put back


@dataclass
class HtmlExtract:
    """What one page yields; ``dates``/``sections`` hold raw candidates keyed by their source.

    ``headlines`` are the page's titles as printed, best first (trafilatura's title, the social-media
    titles, JSON-LD ``headline``, the first ``<h1>``): site names and labels are still in them.
    """

    text: str = ""
    headlines: list[str] = field(default_factory=list)
    author: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    dates: dict[str, str | None] = field(default_factory=dict)
    sections: dict[str, list[str]] = field(default_factory=dict)
    date_lines: list[str] = field(default_factory=list)
    dated_elements: list[str] = field(default_factory=list)


def extract_html(page: str, url: str | None, settings: ExtractionSettings) -> HtmlExtract | None:
    """Main text and metadata of ``page``; None when it has no parseable document."""
    tree = load_html(page)
    if tree is None:
        return None
    json_ld = _json_ld_article(tree)
    meta = _meta_tags(tree)
    result = HtmlExtract(canonical_url=_canonical(tree))
    result.dates["json_ld"] = _text(json_ld.get("datePublished") or json_ld.get("dateCreated"))
    result.dates["html_meta"] = next((meta[k] for k in _DATE_META if meta.get(k)), None)
    result.sections["html_meta"] = list(dict.fromkeys(
        [*_texts(json_ld.get("articleSection")), *(meta[k] for k in _SECTION_META if meta.get(k))]))
    result.date_lines = _date_lines(tree)
    result.dated_elements = _dated_elements(tree)
    metadata = page_metadata(tree, url)
    document = trafilatura.bare_extraction(
        tree, url=url or metadata.url, include_comments=False, include_tables=settings.include_tables,
        favor_precision=settings.favor_precision, fast=settings.fast, output_format="python",
    )
    if document is None:
        return result
    result.text = restore_blocks(document.text or "", tree, url or metadata.url, settings.kept_blocks)
    result.headlines = [title for title in (metadata.title, *(meta.get(key) for key in _HEADLINE_META),
                                            _text(json_ld.get("headline")), _first_h1(tree)) if title]
    result.author = metadata.author
    result.site_name = metadata.sitename
    result.dates["html_date"] = metadata.date
    if not result.sections["html_meta"]:
        result.sections["html_meta"] = list(metadata.categories or categories(tree))[:1]
    return result


def _json_ld_article(tree: lxml_html.HtmlElement) -> dict:
    """The first JSON-LD object of an article type on the page (``@graph`` and lists searched)."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content() or "")
        except (json.JSONDecodeError, RecursionError):
            continue
        for item in _walk_json_ld(data):
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds):
                return item
    return {}


def _walk_json_ld(data: object, depth: int = 0):
    """Yield every dict in a JSON-LD document, shallow first (bounded depth: hostile pages nest)."""
    if depth > 6:
        return
    if isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            yield from _walk_json_ld(data.get(key), depth + 1)
    elif isinstance(data, list):
        for item in data[:50]:
            yield from _walk_json_ld(item, depth + 1)


def _meta_tags(tree: lxml_html.HtmlElement) -> dict[str, str]:
    """``<meta>`` and ``itemprop`` values by lower-cased name/property (first occurrence wins)."""
    found: dict[str, str] = {}
    for element in tree.xpath("//meta[@content]|//*[@itemprop and (@datetime or @content)]"):
        key = element.get("property") or element.get("name") or element.get("itemprop") or ""
        value = element.get("content") or element.get("datetime") or ""
        if key and value.strip():
            found.setdefault(key.strip().lower(), value.strip())
    return found


def _date_lines(tree: lxml_html.HtmlElement) -> list[str]:
    """Short visible text lines that may state when the page was published or in which zone.

    Lines with a digit, in reading order, with the line before each kept (a "Published" label often
    stands in its own element before the date); bounded, since only the page's header matters.
    """
    texts = [" ".join(t.split()) for t in tree.xpath("//body//text()[not(ancestor::script or ancestor::style)]")]
    texts = [t for t in texts if t and len(t) <= _DATE_LINE_MAX_CHARS]
    kept: dict[int, None] = {}
    for position, text in enumerate(texts):
        if any(ch.isdigit() for ch in text):
            kept.update(dict.fromkeys(range(max(position - 1, 0), position + 1)))
            if len(kept) >= _DATE_LINES_KEPT:
                break
    return [texts[position] for position in kept]


def _dated_elements(tree: lxml_html.HtmlElement) -> list[str]:
    """What the page's date elements say, in reading order: ``<time>`` (its ``datetime`` when given) and
    elements whose class or ``itemprop`` names a date. Bounded: the article's own date comes first."""
    found: list[str] = []
    for element in tree.xpath(_DATED_XPATH):
        value = element.get("datetime") or element.get("content") or element.text_content()
        value = " ".join(value.split())
        if value and len(value) <= _DATE_LINE_MAX_CHARS and any(ch.isdigit() for ch in value):
            found.append(value)
            if len(found) >= _DATED_ELEMENTS_KEPT:
                break
    return found


def _canonical(tree: lxml_html.HtmlElement) -> str | None:
    """``<link rel=canonical>``, else ``og:url``."""
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        values = [v.strip() for v in tree.xpath(xpath) if v.strip().startswith(("http://", "https://"))]
        if values:
            return values[0]
    return None


def _first_h1(tree: lxml_html.HtmlElement) -> str | None:
    """The text of the page's first ``<h1>``, white space folded."""
    for heading in tree.xpath("//h1")[:1]:
        text = " ".join(heading.text_content().split())
        if text:
            return text
    return None


def _text(value: object) -> str | None:
    """A JSON-LD value as text: strings as they are, the first of a list, else None."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(value: object) -> list[str]:
    """A JSON-LD value as a list of texts (``articleSection`` may be one string or several)."""
    values = value if isinstance(value, list) else [value]
    return [v.strip() for v in values[:10] if isinstance(v, str) and v.strip()]

