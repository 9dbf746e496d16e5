"""Plain enrichment functions: sections, dates, identities, entity merging, language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.dates import (
    DateSettings,
    choose_published,
    date_from_month_day,
    date_from_url,
    date_settings,
    parse_datetime,
)
from transforms.entities import clean_mention, merge_mentions
from transforms.identity import article_id, canonical_url, identifying_url
from transforms.language import LanguageSettings, detect_language, seed_detector
from transforms.sections import choose_section, section_from_url, slugify

LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC"})


@pytest.mark.parametrize("label, slug", [
    ("World", "world"), ("World News", "world"), ("Tech", "technology"), ("Deportes", "deportes"),
    ("UK News", "uk"), ("Économie & Marchés", "economie-marches"),
])
def test_section_labels_normalise_to_slugs(sections, label, slug):
    assert sections.normalise(label) == slug


@given(st.text())
def test_slugs_are_always_safe_folder_names(label):
    slug = slugify(label)
    assert slug and slug not in {".", ".."} and len(slug) <= 48
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert not slug.startswith("-") and not slug.endswith("-")


def test_section_from_url_needs_a_listed_segment(sections):
    assert section_from_url("https://x.example/world/asia/2024/05/01/story", sections) == "world"
    assert section_from_url("https://x.example/2024/05/01/story", sections) is None


def test_section_sources_follow_configured_order(sections):
    assert choose_section({"breadcrumb": "World", "url_path": "business"}, sections) == ("world", "breadcrumb")
    assert choose_section({"sidecar": "Politics", "breadcrumb": "World"}, sections) == ("politics", "sidecar")
    assert choose_section({"breadcrumb": None}, sections) == ("unknown", "none")


def test_dates_parse_to_utc():
    assert parse_datetime("2022-07-09T10:00:00+07:00") == datetime(2022, 7, 9, 3, tzinfo=UTC)
    assert parse_datetime("Sat, 09 Jul 2022 10:00:00 GMT") == datetime(2022, 7, 9, 10, tzinfo=UTC)
    assert parse_datetime("not a date") is None
    assert parse_datetime(None) is None


@pytest.mark.filterwarnings("ignore::dateutil.parser.UnknownTimezoneWarning")  # as transforms/dates.py does
def test_zone_abbreviations_listed_in_the_config_give_their_offset(run_config):
    zones = date_settings(run_config["dates"]).zones
    parsed = parse_datetime("November 19, 2019, 07:47 PM EST", zones)
    assert parsed == datetime(2019, 11, 20, 0, 47, tzinfo=UTC) and parsed.utcoffset() == timedelta(hours=-5)
    assert parse_datetime("19 Nov 2019 07:09 CEST", zones).utcoffset() == timedelta(hours=2)
    # Not listed: the time as written, taken as UTC (as without a zone).
    assert parse_datetime("November 19, 2019, 07:47 PM IST", zones) == datetime(2019, 11, 19, 19, 47, tzinfo=UTC)


def test_url_dates():
    assert date_from_url("https://x.example/world/2022/07/09/story") == datetime(2022, 7, 9, tzinfo=UTC)
    assert date_from_url("https://x.example/story-20220709.html") == datetime(2022, 7, 9, tzinfo=UTC)
    assert date_from_url("https://x.example/story/2022/13/40") is None


def test_dateline_month_day_takes_the_year_of_capture_or_the_one_before():
    capture = datetime(2024, 1, 3, tzinfo=UTC)
    assert date_from_month_day(1, 2, capture) == datetime(2024, 1, 2, tzinfo=UTC)
    assert date_from_month_day(12, 30, capture) == datetime(2023, 12, 30, tzinfo=UTC)


def test_future_and_ancient_dates_are_skipped_for_the_next_source():
    settings = DateSettings(order=("sidecar", "json_ld", "capture_time"), max_future_hours=36, min_year=1980)
    capture = datetime(2024, 5, 1, tzinfo=UTC)
    candidates = {"sidecar": datetime(2031, 1, 1, tzinfo=UTC), "json_ld": datetime(1970, 1, 1, tzinfo=UTC),
                  "capture_time": capture}
    assert choose_published(candidates, capture, settings) == (capture, "capture_time")


def test_canonical_url_folds_the_forms_of_one_link():
    forms = ["http://www.Example.com/a/b/?utm_source=x&id=3", "https://example.com/a/b?id=3#top",
             "https://example.com:443/a/b?id=3&fbclid=abc"]
    assert {canonical_url(f) for f in forms} == {"https://example.com/a/b?id=3"}
    assert canonical_url("ftp://example.com/x") is None


def test_a_canonical_link_to_a_front_or_a_folder_above_the_page_is_not_its_identity():
    page = "https://news.example/world/2024/03/01/ferry-fares"
    assert identifying_url("https://news.example/", page) == page
    assert identifying_url("https://www.news.example/world", page) == page
    assert identifying_url("https://news.example/world/2024", page) == page  # a folder above the page
    assert identifying_url("https://news.example/", None) is None  # the body identifies it
    assert identifying_url(None, "https://news.example/politics") is None
    assert identifying_url("https://wire.example/2024/03/01/ferry-fares", page) == (
        "https://wire.example/2024/03/01/ferry-fares")  # syndication: another host's article
    assert identifying_url("https://news.example/a/123", None) == "https://news.example/a/123"


def test_article_id_prefers_url_then_body():
    assert article_id("https://example.com/a", "x") == article_id("http://www.example.com/a/", "y")
    assert article_id(None, "Hello,  World!").startswith("body:")
    assert article_id(None, "Hello,  World!") == article_id(None, "hello world")


def test_surname_mentions_count_toward_the_full_name():
    mentions = [("Antony Blinken", "PERSON"), ("Blinken", "PERSON"), ("Blinken", "GPE"), ("Blinken", "PERSON"),
                ("Xi Jinping", "PERSON"), ("Xi", "PERSON"), ("China", "GPE"), ("the United States", "GPE"),
                ("United States", "GPE"), ("Saturday", "DATE")]
    merged = {(e.text, e.label): e.count for e in merge_mentions(mentions, LABELS)}
    assert merged == {("Antony Blinken", "PERSON"): 4, ("Xi Jinping", "PERSON"): 2, ("China", "GPE"): 1,
                      ("United States", "GPE"): 2}


def test_ambiguous_surnames_are_not_merged():
    merged = merge_mentions([("Joe Biden", "PERSON"), ("Jill Biden", "PERSON"), ("Biden", "PERSON")], LABELS)
    assert {e.text for e in merged} == {"Joe Biden", "Jill Biden", "Biden"}


def test_mentions_are_cleaned():
    assert clean_mention("Reuters\n\nNusa  Dua") == "Reuters Nusa Dua"
    assert clean_mention("China’s") == "China"


def test_language_is_deterministic_and_und_for_short_text():
    settings = LanguageSettings(min_letters=40)
    seed_detector(settings)
    text = "Los ministros de Agricultura de la Unión Europea acordaron este lunes un plan común."
    assert detect_language(text, settings)[0] == "es"
    assert detect_language(text, settings) == detect_language(text, settings)
    assert detect_language("Hi there", settings) == ("und", 0.0)
