"""Page blocks that belong to the article but that trafilatura's main-text extraction leaves out.

Three kinds, each named in ``kept_blocks`` of ``configs/boilerplate.yaml``:

- ``lead``: the opening paragraph a site prints in a summary or standfirst element above the body. It is
  restored only when it reads as a paragraph (enough words, a sentence end, little link text) and the page
  has exactly one such element (a listing page repeats its teasers' summaries).
- ``list``: a bulleted or numbered list (product lines, key points) standing between two paragraphs of the
  extracted body; a list with the body on both sides is inside the article, while one after it or beside
  it (related stories, menus) is not.
- ``rating``: the verdict of a fact check, which the page states only in its ClaimReview JSON-LD
  (``reviewRating.alternateName``) or in a badge image.

Pure functions on an lxml tree and the extracted text; nothing here knows a site.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import html as lxml_html

from transforms.identity import normalised_text

_CLASS_WORD = re.compile(r"[A-Za-z]+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)]*$")
_OUTSIDE_ARTICLE = ("ancestor-or-self::*[self::nav or self::header or self::footer or self::aside or self::form "
                    "or self::figure or self::figcaption]")
_JSON_LD_MAX_DEPTH = 6


@dataclass(frozen=True)
class BlockRules:
    """``kept_blocks`` of ``configs/boilerplate.yaml``.

    ``kinds``: the block kinds restored; ``lead_class_words``: words of a class or id naming a lead element
    ("standfirst", "summary"); ``lead_min_words``/``lead_max_words``: the length of a lead paragraph (a
    one-line dek is shorter, a container holding the body longer); ``list_min_items``: items of a kept
    list; ``max_link_share``: the share of a block's words inside links within the site above which it is navigation;
    ``rating_label``: the words put before a fact-check verdict.
    """

    kinds: frozenset[str] = frozenset()
    lead_class_words: frozenset[str] = frozenset()
    exclude_words: frozenset[str] = frozenset()
    lead_min_words: int = 20
    lead_max_words: int = 150
    list_min_items: int = 2
    max_link_share: float = 0.5
    rating_label: str = "Rating"

    @classmethod
    def from_config(cls, cfg: dict) -> BlockRules:
        """From ``kept_blocks`` of the boilerplate config."""
        return cls(kinds=frozenset(cfg["kinds"]),
                   lead_class_words=frozenset(word.lower() for word in cfg["lead"]["class_words"]),
                   exclude_words=frozenset(word.lower() for word in cfg["exclude_words"]),
                   lead_min_words=cfg["lead"]["min_words"], lead_max_words=cfg["lead"]["max_words"],
                   list_min_items=cfg["list"]["min_items"], max_link_share=cfg["max_link_share"],
                   rating_label=cfg["rating"]["label"])


def restore_blocks(text: str, tree: lxml_html.HtmlElement, url: str | None, rules: BlockRules) -> str:
    """``text`` (lines of extracted main text) with the page's missing blocks put back where they stand
    on the page; ``url`` (the page's) tells the site's own links (navigation) from links out of it."""
    lines = text.split("\n")
    folded = normalised_text(text)
    host = _host(url)
    if "list" in rules.kinds:
        for after, items in reversed(list(_inner_lists(tree, lines, folded, host, rules))):
            lines[after + 1:after + 1] = [f"- {item}" for item in items]
    if "lead" in rules.kinds and (lead := _lead(tree, folded, host, rules)):
        # before the first paragraph: short header lines (a headline, a byline) stay above it
        first = next((i for i, line in enumerate(lines) if len(line.split()) >= rules.lead_min_words), 0)
        lines.insert(first, lead)
    if "rating" in rules.kinds and (rating := _rating(tree, lines, rules)):
        lines.append(f"{rules.rating_label}: {rating}")
    return "\n".join(lines)


def _lead(tree: lxml_html.HtmlElement, folded_text: str, host: str | None, rules: BlockRules) -> str | None:
    """The one lead paragraph of the page missing from the text, or None."""
    found = [text for element in tree.xpath("//body//*[@class or @id]")
             if _class_words(element) & rules.lead_class_words and not element.xpath(_OUTSIDE_ARTICLE)
             and not _excluded(element, rules)
             and (text := _paragraph(element, host, rules))]
    found = list(dict.fromkeys(found))  # nested elements of one lead (a div and its p) name it twice
    if len(found) != 1 or normalised_text(found[0]) in folded_text:
        return None
    return found[0]


def _paragraph(element: lxml_html.HtmlElement, host: str | None, rules: BlockRules) -> str | None:
    """The element's text when it reads as one paragraph of prose."""
    text = " ".join(element.text_content().split())
    words = len(text.split())
    if not rules.lead_min_words <= words <= rules.lead_max_words or not _SENTENCE_END.search(text):
        return None
    return text if _site_link_share(element, words, host) <= rules.max_link_share else None


def _inner_lists(tree: lxml_html.HtmlElement, lines: list[str], folded_text: str, host: str | None,
                 rules: BlockRules) -> Iterator[tuple[int, list[str]]]:
    """``(line index, items)`` for each list missing from the text that stands between two of its lines:
    the items go after that line."""
    folded_lines = [normalised_text(line) for line in lines]
    for element in tree.xpath("//body//ul[not(ancestor::ul or ancestor::ol)] | "
                              "//body//ol[not(ancestor::ul or ancestor::ol)]"):
        items = [" ".join(item.text_content().split()) for item in element.xpath("./li")]
        items = [item for item in items if item]
        if len(items) < rules.list_min_items or element.xpath(_OUTSIDE_ARTICLE) or _excluded(element, rules):
            continue
        if element.xpath(".//figure | .//figcaption"):
            continue  # a gallery: its items are captions
        if any(normalised_text(item) in folded_text for item in items):
            continue  # extracted already, in part or whole
        if _site_link_share(element, sum(len(item.split()) for item in items), host) > rules.max_link_share:
            continue
        before = _line_of(element.xpath("preceding::p[1]"), folded_lines)
        after = _line_of(element.xpath("following::p[1]"), folded_lines)
        if before is not None and after is not None and after == before + 1:
            yield before, items


def _line_of(paragraphs: list[lxml_html.HtmlElement], folded_lines: list[str]) -> int | None:
    """The index of the text line holding the paragraph, or None."""
    if not paragraphs:
        return None
    folded = normalised_text(paragraphs[0].text_content())
    if not folded:
        return None
    return next((index for index, line in enumerate(folded_lines) if line == folded), None)


def _rating(tree: lxml_html.HtmlElement, lines: list[str], rules: BlockRules) -> str | None:
    """The fact-check verdict of the page's ClaimReview, unless a line of the text states it (alone or
    after the label); a verdict word inside a sentence ("is it true?") is not a verdict."""
    stated = {normalised_text(line) for line in lines}
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content() or "")
        except (json.JSONDecodeError, RecursionError):
            continue
        for item in _json_ld_items(data, 0):
            if _is_type(item, "claimreview") and isinstance(item.get("reviewRating"), dict):
                rating = item["reviewRating"].get("alternateName")
                if isinstance(rating, str) and rating.strip():
                    rating = " ".join(rating.split())
                    folded = normalised_text(rating)
                    return None if stated & {folded, normalised_text(f"{rules.rating_label} {rating}")} else rating
    return None


def _json_ld_items(data: object, depth: int) -> Iterator[dict]:
    """Every dict in a JSON-LD document, to a bounded depth (hostile pages nest)."""
    if depth > _JSON_LD_MAX_DEPTH:
        return
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _json_ld_items(value, depth + 1)
    elif isinstance(data, list):
        for value in data[:50]:
            yield from _json_ld_items(value, depth + 1)


def _is_type(item: dict, kind: str) -> bool:
    kinds = item.get("@type")
    return any(isinstance(k, str) and k.lower() == kind for k in (kinds if isinstance(kinds, list) else [kinds]))


def _excluded(element: lxml_html.HtmlElement, rules: BlockRules) -> bool:
    """Whether the element or an ancestor is named as something other than article text."""
    return any(_class_words(node) & rules.exclude_words for node in (element, *element.iterancestors()))


def _class_words(element: lxml_html.HtmlElement) -> set[str]:
    """The words of the element's class and id ("article__standfirst-text" → article, standfirst, text)."""
    return {word.lower() for word in _CLASS_WORD.findall(f"{element.get('class') or ''} {element.get('id') or ''}")}


def _site_link_share(element: lxml_html.HtmlElement, words: int, host: str | None) -> float:
    """The share of the element's words that are the text of links within the site (relative, or to
    ``host``): navigation and teasers link there, while product lines and sources link out."""
    linked = sum(len(link.text_content().split()) for link in element.xpath(".//a")
                 if _host(link.get("href")) in (None, host))
    return linked / words if words else 1.0


def _host(url: str | None) -> str | None:
    """The URL's host without ``www.``; None for a relative URL."""
    host = urlsplit(url or "").hostname
    return host.removeprefix("www.") if host else None
