"""Publication dates: parsing, zones for zone-less times, the day sources agree on, and honest precision."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

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
    date_settings,
    parse_candidate,
    parse_datetime,
    published_in_text,
    resolve_zone,
    stated_zone,
    visible_date,
)
from transforms.records import Capture

PACIFIC = timezone(timedelta(hours=-8))
FILLER = ("The council approved the plan after a long debate about the cost of the new ferry service, which "
          "residents have asked for since the old bridge closed two winters ago and traffic doubled.")


@pytest.fixture(scope="module")
def enricher(run_config) -> Enricher:
    return Enricher.from_config(run_config)


@pytest.fixture(scope="module")
def settings(run_config) -> DateSettings:
    return date_settings(run_config["dates"])


def page(head: str = "", header: str = "") -> str:
    """A news page as sites write them: metadata in the head, a header with dates, an article body."""
    return (f"<html><head><title>Ferry plan approved</title>{head}</head><body><header><h1>Ferry plan approved"
            f"</h1>{header}</header><article><p>{FILLER}</p><p>{FILLER}</p></article></body></html>")


def publish(enricher: Enricher, html: str, url: str = "https://news.example.com/story") -> dict:
    article, rejection, _ = build_article(Capture("file:///in/page.html", "html", html, url=url), enricher)
    assert rejection is None
    return article


def json_ld(published: str) -> str:
    return ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Ferry plan approved", '
            f'"datePublished": "{published}"}}</script>')


def meta(name: str, value: str) -> str:
    return f'<meta property="{name}" name="{name}" content="{value}">'


# --- parsing -----------------------------------------------------------------------------------------------

def test_dates_parse_to_aware_datetimes():
    assert parse_datetime("2022-07-09T10:00:00+07:00") == datetime(2022, 7, 9, 3, tzinfo=UTC)
    assert parse_datetime("Sat, 09 Jul 2022 10:00:00 GMT") == datetime(2022, 7, 9, 10, tzinfo=UTC)
    assert parse_datetime("not a date") is None and parse_datetime(None) is None


@pytest.mark.filterwarnings("ignore::dateutil.parser.UnknownTimezoneWarning")  # as transforms/dates.py does
def test_zone_abbreviations_listed_in_the_config_give_their_offset(settings):
    parsed = parse_datetime("November 19, 2019, 07:47 PM EST", settings.zones)
    assert parsed == datetime(2019, 11, 20, 0, 47, tzinfo=UTC) and parsed.utcoffset() == timedelta(hours=-5)
    assert parse_datetime("19 Nov 2019 07:09 CEST", settings.zones).utcoffset() == timedelta(hours=2)
    unlisted = parse_candidate("November 19, 2019, 07:47 PM IST", settings.zones)
    assert not unlisted.zoned and unlisted.value == datetime(2019, 11, 19, 19, 47)


@pytest.mark.parametrize("text, zoned, precision", [
    ("2019-11-19", False, DAY), ("November 18th, 2019", False, DAY), ("18.11.2019", False, DAY),
    ("2019-11-19T05:45", False, MINUTE), ("2019-11-19 05:45:00", False, SECOND),
    ("2019-11-19T05:45:00-08:00", True, SECOND), ("Nov. 18, 2019 at 5:45 p.m. PST", True, MINUTE),
    ("2019-11-19T05:45:00.123Z", True, SECOND),
])
def test_candidates_say_whether_they_had_a_zone_and_how_exact_they_are(settings, text, zoned, precision):
    candidate = parse_candidate(text, settings.zones)
    assert (candidate.zoned, candidate.precision) == (zoned, precision)


def test_url_dates():
    assert date_from_url("https://x.example/world/2022/07/09/story") == datetime(2022, 7, 9, tzinfo=UTC)
    assert date_from_url("https://x.example/story-20220709.html") == datetime(2022, 7, 9, tzinfo=UTC)
    assert date_from_url("https://x.example/us-news/2019/nov/18/story") == datetime(2019, 11, 18, tzinfo=UTC)
    assert date_from_url("https://x.example/story/2022/13/40") is None


def test_dateline_month_day_takes_the_year_of_capture_or_the_one_before():
    capture = datetime(2024, 1, 3, tzinfo=UTC)
    assert date_from_month_day(1, 2, capture) == datetime(2024, 1, 2, tzinfo=UTC)
    assert date_from_month_day(12, 30, capture) == datetime(2023, 12, 30, tzinfo=UTC)


def test_a_published_line_gives_its_date_even_across_elements(settings):
    words = settings.published_words
    assert published_in_text(["Home", "Published: Monday, November 18th, 2019"], words) == "November 18th, 2019"
    assert published_in_text(["Veröffentlicht am", "18.11.2019, 10:45"], words) == "18.11.2019, 10:45"
    assert published_in_text(["Updated November 19, 2019"], words) is None
    far = "Published by the city council, which met every week for many years before it finally decided on 2019-11-18"
    assert published_in_text([far], words) is None  # the date is too far from the word to be its date


def test_date_elements_and_zones_written_in_text(settings):
    assert visible_date(["By Jane Doe", "Mon 18.11.2019 10:45"]) == "18.11.2019 10:45"
    assert visible_date(["Share", "Comments"]) is None
    assert stated_zone("Updated 7:47 PM PST, Nov 19", settings.zones) == "PST"
    assert stated_zone("09:15 (CET)", settings.zones) == "CET"
    assert stated_zone("ABC 7:47 NEWS", settings.zones) is None


# --- zones -------------------------------------------------------------------------------------------------

def test_a_zone_less_time_takes_the_offset_another_source_writes(settings):
    resolved = resolve_zone({"html_meta": parse_candidate("2019-11-19 05:45:00"),
                             "json_ld": parse_candidate("2019-11-19T05:45:00-08:00")}, settings)
    assert resolved["html_meta"].value == datetime(2019, 11, 19, 5, 45, tzinfo=PACIFIC)
    assert resolved["html_meta"].zone_from == "json_ld"


def test_then_a_zone_the_text_writes_then_the_domain_then_utc(settings):
    naive = {"html_meta": parse_candidate("2019-07-19 23:30")}
    assert resolve_zone(naive, settings, "PST")["html_meta"].value.utcoffset() == timedelta(hours=-8)
    berlin = resolve_zone(naive, settings, None, ZoneInfo("Europe/Berlin"))["html_meta"]
    assert (berlin.value.utcoffset(), berlin.zone_from) == (timedelta(hours=2), "domain")  # summer time
    assert resolve_zone(naive, settings)["html_meta"].zone_from == "utc"


def test_a_utc_value_is_read_in_the_sites_zone(settings):
    resolved = resolve_zone({"html_meta": parse_candidate("2022-11-06T23:00:00Z")}, settings, None,
                            ZoneInfo("Europe/Berlin"))
    assert resolved["html_meta"].day.isoformat() == "2022-11-07"


# --- choosing the day --------------------------------------------------------------------------------------

def test_an_explicit_offset_beats_a_zone_less_value_on_the_same_day(settings):
    candidates = resolve_zone({"html_meta": parse_candidate("2019-11-19 05:45:00"),
                               "json_ld": parse_candidate("2019-11-19T05:47:00-08:00")}, settings)
    chosen = choose_published(candidates, None, settings)
    assert (chosen.source, chosen.precision) == ("json_ld", SECOND)


def test_the_day_sources_agree_on_wins_over_source_order(settings):
    day = DateCandidate(datetime(2019, 11, 18, tzinfo=UTC), False, DAY)
    candidates = {"html_meta": parse_candidate("2019-10-13T09:00:00+00:00"), "url": day,
                  "text": parse_candidate("November 18th, 2019"), "html_date": parse_candidate("2019-10-13")}
    chosen = choose_published(candidates, None, replace(settings, weights={}, derived=frozenset()))
    assert chosen.value.date().isoformat() == "2019-11-18" and chosen.precision == DAY


def test_copies_of_one_value_cast_one_vote(settings):
    candidates = {"html_meta": parse_candidate("2020-01-03T09:48:24+00:00"),
                  "json_ld": parse_candidate("2020-01-03T09:48:24+00:00"),
                  "url": DateCandidate(datetime(2020, 1, 6, tzinfo=UTC), False, DAY),
                  "visible": parse_candidate("06.01.2020")}
    assert choose_published(candidates, None, settings).value.date().isoformat() == "2020-01-06"  # 2 + 1 > 2


def test_htmldate_repeating_another_sources_day_is_an_echo(settings):
    candidates = {"html_meta": parse_candidate("2019-10-13T08:00:00+00:00"),
                  "html_date": parse_candidate("2019-10-13"),
                  "url": DateCandidate(datetime(2019, 11, 18, tzinfo=UTC), False, DAY),
                  "text": parse_candidate("November 18th, 2019")}
    assert choose_published(candidates, None, settings).value.date().isoformat() == "2019-11-18"  # 2 + 1 > 2
    alone = {"html_date": parse_candidate("2019-10-13"), "text": parse_candidate("November 18th, 2019")}
    assert choose_published(alone, None, settings).value.date().isoformat() == "2019-10-13"  # 2 > 1


def test_a_day_only_winner_takes_the_time_of_a_source_on_the_same_day(settings):
    candidates = {"url": DateCandidate(datetime(2022, 7, 9, tzinfo=UTC), False, DAY),
                  "json_ld": parse_candidate("2022-07-09T10:00:00+02:00")}
    chosen = choose_published(candidates, None, settings)
    assert (chosen.value, chosen.source, chosen.precision) == (datetime(2022, 7, 9, 8, tzinfo=UTC), "json_ld",
                                                              SECOND)


def test_the_captures_own_date_wins_and_capture_time_is_the_last_resort(settings):
    capture = datetime(2024, 5, 1, tzinfo=UTC)
    assert choose_published({"sidecar": parse_candidate("2024-04-30"), "json_ld": parse_candidate(
        "2024-04-29T10:00:00Z")}, capture, settings).source == "sidecar"
    candidates = {"json_ld": parse_candidate("2031-01-01T00:00:00Z"), "html_meta": parse_candidate("1970-01-01"),
                  "capture_time": DateCandidate(capture, True, SECOND)}
    assert choose_published(candidates, capture, settings).source == "capture_time"
    assert choose_published({}, capture, settings).source == "none"


# --- pages built here, through the whole article step ------------------------------------------------------

def test_page_naive_meta_and_json_ld_with_offset(enricher):
    article = publish(enricher, page(meta("sailthru.date", "2019-11-19 05:45:00") + json_ld(
        "2019-11-18T21:45:00-08:00")))
    assert article["published_at"] == datetime(2019, 11, 19, 5, 45, tzinfo=UTC)
    assert (article["date"].isoformat(), article["date_source"], article["published_precision"]) == (
        "2019-11-18", "json_ld", "second")


def test_page_naive_meta_takes_the_zone_pst_written_in_its_text(enricher):
    article = publish(enricher, page(meta("sailthru.date", "2019-11-19 05:45:00"),
                                     "<p>Updated 9:12 PM PST</p>"))
    assert article["published_at"] == datetime(2019, 11, 19, 13, 45, tzinfo=UTC)
    assert (article["date_source"], article["published_precision"]) == ("html_meta@text", "second")


def test_page_naive_meta_takes_the_zone_cet_written_in_its_text(enricher):
    article = publish(enricher, page(meta("article:published_time", "2024-02-01T00:30"), "<p>01.02.2024 00:30 CET</p>"))
    assert (article["date"].isoformat(), article["date_source"]) == ("2024-02-01", "html_meta@text")
    assert article["published_at"] == datetime(2024, 1, 31, 23, 30, tzinfo=UTC)
    assert article["published_precision"] == "minute"


def test_page_naive_meta_on_a_country_domain_takes_the_countrys_zone(enricher):
    article = publish(enricher, page(meta("article:published_time", "2024-02-01T00:30")),
                      url="https://zeitung.example.de/story")
    assert (article["date"].isoformat(), article["date_source"]) == ("2024-02-01", "html_meta@domain")


def test_an_archived_page_takes_the_zone_of_the_address_it_archives(enricher):
    article = publish(enricher, page(meta("article:published_time", "2024-02-01T00:30")),
                      url="https://web.archive.org/web/20240301000000/https://zeitung.example.de/story")
    assert (article["date"].isoformat(), article["date_source"]) == ("2024-02-01", "html_meta@domain")


def test_page_naive_meta_without_any_zone_is_utc_and_says_so(enricher):
    article = publish(enricher, page(meta("article:published_time", "2024-02-01T00:30")))
    assert (article["published_at"], article["date_source"]) == (datetime(2024, 2, 1, 0, 30, tzinfo=UTC),
                                                                 "html_meta@utc")


def test_page_whose_url_and_text_agree_against_its_meta(enricher):
    article = publish(enricher, page(meta("article:published_time", "2019-10-13T08:00:00+00:00"),
                                     "<p>Published: Monday, November 18th, 2019</p>"),
                      url="https://news.example.com/us-news/2019/nov/18/ferry-plan")
    assert article["date"].isoformat() == "2019-11-18"
    assert article["published_precision"] == "day"


def test_page_with_only_a_day_is_marked_day_precise(enricher):
    article = publish(enricher, page(meta("article:published_time", "2024-03-05")))
    assert article["published_at"] == datetime(2024, 3, 5, tzinfo=UTC)
    assert article["published_precision"] == "day"
