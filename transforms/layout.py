"""Split a page's text into title, bylines, breadcrumb and body paragraphs, dropping furniture.

Works on already-extracted text: a plain-text capture, or trafilatura's output for an HTML page (which
still leaks some chrome). The header is everything before the first long paragraph; short lines there
are classified (furniture, breadcrumb, byline, title), the rest is body, where furniture and credit
lines are removed and tail rules close the story.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from transforms.byline import BylineRules, parse_byline
from transforms.furniture import FurnitureRule, classify_line, cut_inline, normalise_line
from transforms.sections import SectionIndex, fold
from transforms.words import count_words, display_width, join_lines

_WRAPPED_MIN, _WRAPPED_MAX = 50, 80  # a hard-wrapped block: every line but the last this many columns wide
# A line ending in an ideographic full stop ends a paragraph: CJK text written one paragraph per line has
# lines of any width, and wrapping falls on a full stop only by chance.
_IDEOGRAPHIC_SENTENCE_ENDS = ("。", "！", "？", "」")
_TITLE_REPEAT_SHARE = 0.6  # a header line holding this share of the title (or held by it) repeats it
_INDENTED_LINE = re.compile(r"\n(?=[ \t\u00a0]+\S)")  # a line break before an indented line
_SENTENCE_END = re.compile(r"[.!?…;:,][\"'”’»)]*$")
_LIST_BULLET = re.compile(r"^[-–—•·*►▶]\s+")


@dataclass(frozen=True)
class LayoutRules:
    """Everything the layout step needs, compiled once (see `configs/boilerplate.yaml`)."""

    furniture: list[FurnitureRule]
    header_bylines: list[re.Pattern]
    people: BylineRules
    credit_lines: list[re.Pattern]
    crumb_separators: re.Pattern
    crumb_ignore: frozenset[str]
    crumb_max_words: int
    body_min_words: int
    title_max_words: int
    headline_echo: dict
    link_list: dict
    sections: SectionIndex

    @classmethod
    def from_config(cls, cfg: dict, furniture: list[FurnitureRule], sections: SectionIndex) -> LayoutRules:
        crumbs = cfg["breadcrumbs"]
        return cls(
            furniture=furniture,
            header_bylines=[re.compile(p, re.IGNORECASE) for p in cfg["bylines"]["header"]],
            people=BylineRules.from_config(cfg["authors"]),
            credit_lines=[re.compile(p, re.IGNORECASE) for p in cfg["bylines"]["credits"]],
            crumb_separators=re.compile("|".join(re.escape(s) for s in crumbs["separators"])),
            crumb_ignore=frozenset(fold(word) for word in crumbs["ignore"]),
            crumb_max_words=crumbs["max_words"],
            body_min_words=cfg["layout"]["body_min_words"],
            title_max_words=cfg["layout"]["title_max_words"],
            headline_echo=cfg["layout"]["headline_echo"],
            link_list=cfg["layout"]["link_list"],
            sections=sections,
        )


@dataclass
class TextLayout:
    """What the layout step found; ``removed`` pairs each dropped line with the rule that dropped it."""

    title: str | None = None
    bylines: list[str] = field(default_factory=list)
    breadcrumb: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text``: one per line, except hard-wrapped blocks, whose lines are rejoined.

    Within a block, an indented line opens a new paragraph: wire copy marks paragraphs by indenting
    their first line rather than by blank lines.
    """
    paragraphs: list[str] = []
    for block in re.split(r"\n[ \t\u00a0]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        for indented in _INDENTED_LINE.split(block):
            lines = [" ".join(line.split()) for line in indented.split("\n")]
            lines = [line for line in lines if line]
            if len(lines) > 1 and all(_wrapped(line) for line in lines[:-1]):
                paragraphs.append(functools.reduce(join_lines, lines))
            else:
                paragraphs.extend(lines)
    return paragraphs


def _wrapped(line: str) -> bool:
    return _WRAPPED_MIN <= display_width(line) <= _WRAPPED_MAX and not line.endswith(_IDEOGRAPHIC_SENTENCE_ENDS)


def layout_text(text: str, rules: LayoutRules, known_title: str | None = None,
                opens_body: Callable[[str], object] | None = None) -> TextLayout:
    """Classify the paragraphs of ``text``; ``known_title`` (from HTML metadata) is dropped if repeated.

    ``opens_body`` says whether a short line starts the story anyway (a dateline over a table of figures).
    """
    layout = TextLayout(title=known_title)
    paragraphs = _without_inline_furniture(split_paragraphs(text), rules, layout)
    body_start = _read_header(paragraphs, rules, layout, known_title, opens_body)
    if opens_body and body_start < len(paragraphs) and opens_body(paragraphs[body_start]):
        layout.paragraphs.append(paragraphs[body_start])  # a dateline line is never furniture
        body_start += 1
    _read_body(paragraphs[body_start:], rules, layout, known_title)
    _drop_closing_link_list(rules, layout)
    return layout


def _without_inline_furniture(paragraphs: list[str], rules: LayoutRules, layout: TextLayout) -> list[str]:
    """The paragraphs with inline furniture (shortcodes, glued labels) cut out; emptied ones dropped."""
    kept = []
    for paragraph in paragraphs:
        rest, cut = cut_inline(paragraph, rules.furniture)
        layout.removed += [(rule, paragraph) for rule in cut]
        if rest:
            kept.append(rest)
    return kept


def _read_header(paragraphs: list[str], rules: LayoutRules, layout: TextLayout, known_title: str | None,
                 opens_body: Callable[[str], object] | None) -> int:
    """Consume header lines into ``layout``; return the index of the first body paragraph.

    Short unclassified lines after the title (a standfirst, a subheading) are kept as body.
    """
    standfirst: list[str] = []
    index = 0
    for index, paragraph in enumerate(paragraphs):  # noqa: B007 - the index is the result
        if count_words(paragraph) >= rules.body_min_words or (opens_body and opens_body(paragraph)):
            break
        if _header_line(paragraph, rules, layout, known_title):
            continue
        if layout.title is None and count_words(paragraph) <= rules.title_max_words:
            layout.title = paragraph
        else:
            standfirst.append(paragraph)
    else:
        index = len(paragraphs)
    layout.paragraphs.extend(standfirst)
    return index


def _header_line(line: str, rules: LayoutRules, layout: TextLayout, known_title: str | None) -> bool:
    """Handle one short header line if it is furniture, a breadcrumb, a byline or a repeated title."""
    verdict = classify_line(line, rules.furniture)
    if verdict and verdict.scope == "prefix":
        crumb = _breadcrumb(verdict.remainder, rules) if verdict.remainder else None
        if verdict.remainder and crumb is None:
            verdict = None
        else:
            layout.removed.append((verdict.rule, line))
            layout.breadcrumb = layout.breadcrumb or crumb
            return True
    if verdict:
        layout.removed.append((verdict.rule, line))
        return True
    if known_title and _repeats_title(line, known_title, rules.headline_echo):
        layout.removed.append(("title_repeat", line))
        return True
    byline = _match_any(line, rules.header_bylines) if count_words(line) <= 14 else None
    byline = byline or _match_any(line, rules.credit_lines)
    if byline and parse_byline(byline, rules.people).names:  # "Reported by the ministry" is a sentence
        layout.bylines.append(byline)
        layout.removed.append(("byline", line))
        return True
    if layout.title is None and layout.breadcrumb is None:
        crumb = _breadcrumb(line, rules, listed_only=not rules.crumb_separators.search(line))
        if crumb:
            layout.breadcrumb = crumb
            layout.removed.append(("breadcrumb", line))
            return True
    return False


def _repeats_title(line: str, title: str, echo: dict) -> bool:
    """The headline again: equal to the title, most of it (the page's H1 without the ``<title>``'s
    site name or kicker, or the title without the H1's kicker), or a reworded headline (`_echoes`)."""
    line_key, title_key = _title_key(line), _title_key(title)
    if not line_key or not title_key:
        return False
    shorter, longer = sorted((line_key, title_key), key=len)
    if line_key == title_key or (len(shorter) >= _TITLE_REPEAT_SHARE * len(longer) and shorter in longer):
        return True
    return _echoes(line, line_key.split(), title_key.split(), echo)


def _echoes(line: str, line_words: list[str], title_words: list[str], echo: dict) -> bool:
    """A headline-shaped line (no closing punctuation, not much longer than the title) that holds
    nearly every word of the title: the page's H1 where ``<title>`` words the headline differently."""
    if len(title_words) < echo["min_title_words"] or _SENTENCE_END.search(line.strip()) or _LIST_BULLET.match(line):
        return False
    if len(line_words) > echo["max_length_ratio"] * len(title_words) + 2:
        return False
    shared = sum(1 for word in set(title_words) if word in set(line_words))
    return shared >= echo["min_shared"] * len(set(title_words))


def _title_key(text: str) -> str:
    """Case- and accent-free, single-spaced words that keep every script's letters, without punctuation.

    Not ``fold``, which keeps only ASCII: every Japanese or Russian line would fold to "" and
    "repeat" a title in the same script. Punctuation goes so that curly and straight quotes agree.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.casefold().split())


def _read_body(paragraphs: list[str], rules: LayoutRules, layout: TextLayout, known_title: str | None) -> None:
    """Keep body paragraphs, dropping furniture and credit lines; a tail rule ends the story.

    A first paragraph that rewords the headline is the page's H1 (too long for the header): dropped.
    """
    for position, paragraph in enumerate(paragraphs):
        if (position == 0 and known_title and not layout.paragraphs
                and _repeats_title(paragraph, known_title, rules.headline_echo)):
            layout.removed.append(("title_repeat", paragraph))
            continue
        verdict = classify_line(paragraph, rules.furniture)
        if verdict and verdict.scope == "tail":
            layout.removed.append((verdict.rule, paragraph))
            for line in paragraphs[position + 1:]:
                own = classify_line(line, rules.furniture)
                layout.removed.append((own.rule if own else verdict.rule, line))
            return
        if verdict and not (verdict.scope == "prefix" and verdict.remainder):
            layout.removed.append((verdict.rule, paragraph))
            continue
        credit = _match_any(paragraph, rules.credit_lines)
        if credit:
            layout.bylines.append(credit.strip("() "))
            layout.removed.append(("credit_line", paragraph))
            continue
        layout.paragraphs.append(paragraph)


def _drop_closing_link_list(rules: LayoutRules, layout: TextLayout) -> None:
    """Drop a list of headline-shaped bullets at the story's end: links to other stories.

    Lists inside the story (steps, product lines, quotes) are written as sentences or followed by
    more story; only a run near the end whose items all look like headlines goes.
    """
    paragraphs, settings = layout.paragraphs, rules.link_list
    end = len(paragraphs)
    while end > 0 and not _LIST_BULLET.match(paragraphs[end - 1]) and len(paragraphs) - end < settings["max_after"]:
        end -= 1
    start = end
    while start > 0 and _is_headline_bullet(paragraphs[start - 1], settings):
        start -= 1
    if end - start >= settings["min_items"] and start > 0:
        layout.removed += [("link_list", line) for line in paragraphs[start:end]]
        del paragraphs[start:end]


def _is_headline_bullet(line: str, settings: dict) -> bool:
    """"- 11 Fascinating Facts About Our Galaxy": a bullet, a few words, title case, no comma or full stop
    (a comma makes "Name, Role" and other list items)."""
    bullet = _LIST_BULLET.match(line)
    if not bullet:
        return False
    text = line[bullet.end():].strip()
    words = text.split()
    long_words = [word for word in words if sum(ch.isalpha() for ch in word) >= 4]
    if not 2 <= len(words) <= settings["max_words"] or not long_words or "," in text or _SENTENCE_END.search(text):
        return False
    capitalised = sum(word[0].isupper() or word[0].isdigit() for word in long_words)
    return capitalised >= settings["min_capitalised"] * len(long_words)


def _match_any(line: str, patterns: list[re.Pattern]) -> str | None:
    """The ``who`` group of the first pattern matching the whole line."""
    text = normalise_line(line)
    for pattern in patterns:
        match = pattern.fullmatch(text)
        if match:
            return match.group("who").strip(" ,;")
    return None


def _breadcrumb(text: str, rules: LayoutRules, listed_only: bool = False) -> str | None:
    """The trail a breadcrumb line names, as written without generic crumbs; None when ``text`` is not one.

    Every crumb from the first useful one on is kept, as written (``Home > News > Business > Markets`` ->
    ``Business > Markets``), so the section step can try each of them. A lone word counts only when it
    names a desk (``listed_only``).
    """
    crumbs = [c.strip() for c in rules.crumb_separators.split(text) if c.strip()]
    if not crumbs or any(count_words(c) > rules.crumb_max_words or re.search(r"[.!?,;\"“”]", c) for c in crumbs):
        return None
    useful = [c for c in crumbs if fold(c) not in rules.crumb_ignore]
    if not useful or (listed_only and not any(rules.sections.known(c) for c in useful)):
        return None
    start = text.index(useful[0])
    return text[start:text.rindex(useful[-1]) + len(useful[-1])]
