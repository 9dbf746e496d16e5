"""Properties of the text functions in ``transforms/``: arbitrary Unicode never raises, and nothing is invented.

Cleaning only removes or keeps: every title, byline, breadcrumb and paragraph it keeps is text of the
input up to white space (paragraphs fold runs of spaces and rejoin hard-wrapped lines). Dates and
sections are chosen among the candidates, never made up, and slugs are folder-safe. Dateline properties
live in ``tests/test_dateline.py`` and ``slugify``'s in ``tests/test_enrichment.py``.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from dateutil import parser as dateutil_parser
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.config import load_run_config
from transforms.article import Enricher, build_article
from transforms.dates import (
    DAY,
    MINUTE,
    SECOND,
    DateCandidate,
    DateSettings,
    choose_published,
    date_from_month_day,
    date_from_url,
    parse_datetime,
)
from transforms.entities import groups_of_chars
from transforms.furniture import classify_line, normalise_line
from transforms.identity import article_id, canonical_url
from transforms.layout import layout_text, split_paragraphs
from transforms.records import Capture
from transforms.sections import choose_section, section_from_url
from transforms.title import title_without_site
from transforms.words import count_words, join_lines

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
CAPTURED = datetime(2024, 3, 5, 12, tzinfo=UTC)
HOSTILE_LABELS = ["World", "../..", "/etc/passwd", "C:\\Windows\\x", "a\0b", "Ａ／．．", "\u202e..", "%2e%2e%2f"]
QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Lines the rules in configs/boilerplate.yaml act on, mixed into random text so the rules do fire.
_SHAPED_LINES = [
    "Main SliderWorld", "Share this article", "Back to top button", "Related Articles", "Advertisement",
    "By Jane Doe and John Roe", "Story by Coastline Wire", "Reporting by Ana Lima; Editing by Tom Hart",
    "Home > World > Asia", "Home | Politics", "Follow us on Twitter", "© 2024 Example News. All rights reserved.",
    "Read more: Council backs ferry plan", "Updated: 5 March 2024", "Tags: ferries, harbour", "—",
    "HARBOURTON, March 4 (Reuters) - The harbour board voted to run a trial of late ferries.",
    "The harbour board voted on Tuesday to run a three-month trial of late ferries between the old quay and "
    "the island, after a petition gathered more than two thousand names from shift workers.",
    "区議会は火曜日、新しい図書館の建設計画を賛成多数で可決した。",
]
_LINE = st.one_of(st.text(max_size=60), st.sampled_from(_SHAPED_LINES),
                  st.text(alphabet=" \t\u00a0\u200b\u3000-–—•*>|/:.,()", max_size=6))
_BREAK = st.sampled_from(["\n", "\n\n", "\r\n", "\n \n", "\n\t", "\r", "\n\n\n"])
PAGE_TEXT = st.lists(st.tuples(_LINE, _BREAK), max_size=14).map(lambda pairs: "".join(a + b for a, b in pairs))
SHAPED_PAGE = "\n\n".join([
    "Main SliderWorld", "Harbour board backs late ferries", "By Jane Doe and John Roe", *_SHAPED_LINES[16:18],
    "Share this article", "Advertisement", "Reporting by Ana Lima; Editing by Tom Hart", "Back to top button",
    _SHAPED_LINES[18], "Related Articles", "Read more: Council backs ferry plan", "Tags: ferries, harbour"])


def squash(text: str) -> str:
    """White space and the invisible spaces the furniture rules fold, collapsed to single spaces (to none
    between two characters of a script written without spaces, as rejoined wrapped lines are)."""
    return functools.reduce(join_lines, _ZERO_WIDTH.sub(" ", text).split(), "").strip()


def occurs_in(part: str, text: str) -> bool:
    return squash(part) in squash(text)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher.from_config(load_run_config())


# --- furniture stripping and layout ---------------------------------------------------------------


@QUICK
@given(line=st.one_of(st.text(), st.sampled_from(_SHAPED_LINES)))
def test_furniture_verdicts_name_a_rule_and_keep_only_text_of_the_line(layout_rules, line):
    assert occurs_in(normalise_line(line), line)
    verdict = classify_line(line, layout_rules.furniture)
    if verdict is not None:
        assert verdict.rule in {rule.name for rule in layout_rules.furniture}
        assert verdict.scope in {"line", "prefix", "tail"}
        assert occurs_in(verdict.remainder, line)


@QUICK
@given(text=PAGE_TEXT, known_title=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(_SHAPED_LINES)))
@example(text=SHAPED_PAGE, known_title=None)
@example(text=SHAPED_PAGE, known_title="Share this article")
def test_layout_puts_every_paragraph_in_exactly_one_place_and_invents_nothing(enricher, text, known_title):
    layout = layout_text(text, enricher.layout, known_title=known_title, opens_body=enricher.find_dateline)
    title_from_text = [layout.title] if layout.title is not None and layout.title != known_title else []
    placed = layout.paragraphs + [line for _, line in layout.removed] + title_from_text
    assert Counter(placed) == Counter(split_paragraphs(text))
    for part in [*placed, *layout.bylines, *([layout.breadcrumb] if layout.breadcrumb else [])]:
        assert occurs_in(part, text), part
    assert {rule for rule, _ in layout.removed} <= {r.name for r in enricher.layout.furniture} | {
        "title_repeat", "byline", "breadcrumb", "credit_line"}


def test_the_shaped_page_exercises_the_rules(enricher):
    """The fixed example above is not vacuous: furniture, bylines, breadcrumb and a dateline all fire."""
    layout = layout_text(SHAPED_PAGE, enricher.layout, opens_body=enricher.find_dateline)
    assert [rule for rule, _ in layout.removed] == [
        "carousel_label", "byline", "share", "advertisement", "credit_line", "back_to_top", "related_block",
        "read_also_link", "taxonomy"]
    assert (layout.breadcrumb, layout.title) == ("World", "Harbour board backs late ferries")
    assert layout.bylines == ["Jane Doe and John Roe", "Reporting by Ana Lima; Editing by Tom Hart"]
    assert [enricher.find_dateline(p).place if enricher.find_dateline(p) else None for p in layout.paragraphs] == [
        "Harbourton", None, None]
    properties = [name for name, test in globals().items() if name.startswith("test_") and hasattr(test, "hypothesis")]
    print(f"\nproperties: {len(properties)} hypothesis tests, up to {QUICK.max_examples} examples each, over "
          f"arbitrary Unicode mixed with {len(_SHAPED_LINES)} furniture-shaped lines")


@QUICK
@given(text=PAGE_TEXT)
@example(text=SHAPED_PAGE)
@example(text="Council backs library\n\nBy Jane Doe\n\n" + _SHAPED_LINES[16] + " " + _SHAPED_LINES[17])
def test_text_articles_hold_only_text_of_the_capture(enricher, text):
    capture = Capture("mem://page.txt", "text", text, captured_at=CAPTURED, captured_at_source="file_mtime")
    article, rejection, removed = build_article(capture, enricher)
    if article is None:
        assert rejection.reason in {"only_furniture", "no_article_text"}
        return
    for part in [article["title"], article["dateline"], *(article["byline"] or "").split("; "),
                 *article["body"].split("\n\n")]:
        assert part is None or occurs_in(part, text), part
    assert article["word_count"] == count_words(article["body"]) >= enricher.min_words
    assert SLUG.fullmatch(article["section"]) and article["date"] <= (CAPTURED + timedelta(hours=36)).date()
    assert sum(article["furniture_removed"].values()) == len(removed)


_MARKUP = st.lists(st.one_of(
    st.sampled_from(["<p>", "</p>", "<div>", "</div>", "<br>", "<script>", "</script>", "<title>", "</title>",
                     "<h1>", "</h1>", "<article>", "</article>", "<!--", "-->", "<![CDATA[", "&amp;", "&#0;",
                     '<meta charset="x-unknown">', '<link rel="canonical" href="//[::1">',
                     '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": [[]]}</script>',
                     '<meta property="article:section" content="../../etc">', _SHAPED_LINES[17]]),
    st.text(max_size=30)), max_size=25).map("".join)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=_MARKUP, url=st.one_of(st.none(), st.text(max_size=30), st.just("https://x.example/world/2024/03/04/a")))
def test_arbitrary_markup_never_raises_and_yields_a_safe_row_or_a_reason(enricher, page, url):
    capture = Capture("mem://page.html", "html", page, url=url, captured_at=CAPTURED, captured_at_source="file_mtime")
    article, rejection, _ = build_article(capture, enricher)
    if article is None:
        assert rejection.reason in {"only_furniture", "no_article_text", "unparseable_html"}
    else:
        assert SLUG.fullmatch(article["section"]) and article["body"].strip()


# --- dates ------------------------------------------------------------------------------------------

DATE_SETTINGS = DateSettings(order=("record", "sidecar", "url", "html_meta", "json_ld", "dateline", "capture_time"))
# parse_datetime refuses year 1, the year dateutil fills in when a text has none.
_AWARE = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9999, 12, 30)).map(
    lambda d: d.replace(tzinfo=UTC))


@QUICK
@given(value=st.one_of(st.text(), st.sampled_from(["2024-03-05", "32/13/2024", "5 March 2024 10:00 +05:30",
                                                   "10.12.2022", "0000-00-00", "9999-12-31T23:59:59-23:59"])))
def test_any_text_parses_to_an_aware_datetime_or_none(value):
    parsed = parse_datetime(value)
    assert parsed is None or parsed.tzinfo is not None


@QUICK
@given(when=_AWARE)
def test_iso_dates_parse_back_to_the_same_instant(when):
    assert parse_datetime(when.isoformat()) == when


@QUICK
@given(when=st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 30)),
       offset_minutes=st.one_of(st.none(), st.integers(-23 * 60, 23 * 60)),
       spec=st.sampled_from(["hours", "minutes", "seconds", "milliseconds", "microseconds", "date"]),
       separator=st.sampled_from(["T", " "]), zulu=st.booleans())
def test_the_iso_fast_path_reads_dates_as_dateutil_does(when, offset_minutes, spec, separator, zulu):
    """ISO strings skip dateutil (measured faster); they must still give dateutil's instant and offset."""
    zone = None if offset_minutes is None else timezone(timedelta(minutes=offset_minutes))
    when = when.replace(tzinfo=zone)
    text = when.date().isoformat() if spec == "date" else when.isoformat(sep=separator, timespec=spec)
    if zulu and offset_minutes == 0 and spec != "date":
        text = text.removesuffix("+00:00") + "Z"
    expected = dateutil_parser.parse(text, default=datetime(1, 1, 1))
    expected = expected.replace(tzinfo=UTC) if expected.tzinfo is None else expected
    parsed = parse_datetime(text)
    assert parsed == expected and parsed.utcoffset() == expected.utcoffset()


@QUICK
@given(url=st.one_of(st.text(), st.builds("https://x.example/{}/{}/{}/a".format, st.integers(1900, 2100),
                                          st.integers(0, 13), st.integers(0, 32))))
def test_a_date_from_a_url_is_spelled_in_the_url(url):
    found = date_from_url(url)
    assert found is None or (str(found.year) in url and found.tzinfo == UTC)


@QUICK
@given(month=st.integers(1, 12), day=st.integers(1, 31), reference=st.one_of(st.none(), _AWARE))
def test_a_dateline_day_is_the_latest_such_day_not_after_the_reference(month, day, reference):
    found = date_from_month_day(month, day, reference)
    assert found is None or ((found.month, found.day) == (month, day) and found.date() <= reference.date())


@QUICK
@given(candidates=st.dictionaries(st.sampled_from([*DATE_SETTINGS.order, "unknown_source"]),
                                  st.one_of(st.none(), st.builds(DateCandidate, _AWARE, st.booleans(),
                                                                 st.sampled_from([DAY, MINUTE, SECOND])))),
       captured_at=st.one_of(st.none(), _AWARE.filter(lambda d: d.year < 9999)))
def test_the_chosen_publication_date_is_one_of_the_candidates(candidates, captured_at):
    chosen = choose_published(candidates, captured_at, DATE_SETTINGS)
    if chosen.value is None:
        assert chosen.source == "none"
        return
    assert candidates[chosen.source].value == chosen.value and chosen.source in DATE_SETTINGS.order
    assert chosen.precision == candidates[chosen.source].precision
    assert chosen.value.year >= DATE_SETTINGS.min_year
    assert chosen.value <= (captured_at or datetime.now(UTC)) + timedelta(hours=DATE_SETTINGS.max_future_hours)


# --- sections, titles and identities ------------------------------------------------------------------


@QUICK
@given(candidates=st.dictionaries(
    st.sampled_from(["record", "sidecar", "breadcrumb", "html_meta", "url_path", "x"]),
    st.one_of(st.none(), st.text(), st.sampled_from(HOSTILE_LABELS))))
def test_the_chosen_section_is_always_a_safe_slug_from_a_configured_source(sections, candidates):
    choice = choose_section(candidates, sections)
    assert choice.section in {*sections.desks, sections.fallback} and SLUG.fullmatch(choice.section)
    assert (choice.source, choice.section) == ("none", sections.fallback) or choice.source in sections.order


@QUICK
@given(url=st.one_of(st.text(), st.builds("https://x.example/{}/a".format, st.text())))
@example(url="N\rFL/")
def test_a_section_from_a_url_is_a_desk_named_by_one_of_its_segments(sections, url):
    found = section_from_url(url, sections)
    as_parsed = re.sub(r"[\t\r\n]", "", url)  # URL parsers drop tabs and line breaks (WHATWG URL standard)
    assert found is None or (found[0] in sections.desks and found[1] in as_parsed)


@QUICK
@given(title=st.one_of(st.none(), st.text()), site=st.one_of(st.none(), st.text(max_size=20)),
       url=st.one_of(st.none(), st.text(max_size=30), st.just("https://www.example.com/a")))
@example(title="Ferry trial approved | Example", site="Example", url=None)
def test_a_title_without_its_site_name_is_part_of_the_title(title, site, url):
    cleaned = title_without_site(title, site, url)
    assert cleaned == title or (cleaned and cleaned in title)


@QUICK
@given(url=st.one_of(st.none(), st.text(), st.builds("http://{}/{}?utm_source=x&b=1".format, st.text(), st.text())),
       body=st.text())
def test_identities_are_well_formed_for_any_input(url, body):
    canonical = canonical_url(url)
    assert canonical is None or canonical.startswith("https://")
    assert re.fullmatch(r"(?:url|body):[0-9a-f]{32}", article_id(url, body))


# --- NER batches ------------------------------------------------------------------------------------


@QUICK
@given(texts=st.lists(st.text(max_size=60)), budget=st.integers(1, 100))
def test_ner_groups_keep_every_text_in_order_within_the_character_budget(texts, budget):
    groups = list(groups_of_chars(texts, budget))
    assert [text for group in groups for text in group] == texts
    assert all(group for group in groups)
    assert all(len(group) == 1 or sum(map(len, group)) <= budget for group in groups)
    # Greedy: a group closes only when the next text would overflow it.
    assert all(sum(map(len, group)) + len(after[0]) > budget for group, after in pairwise(groups))
