"""Dateline parsing and place resolution: the wire shapes we must read and the sentences we must not."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import gazetteer as gazetteer_module
from transforms.agencies import AgencyMatcher, load_agency_matcher
from transforms.dateline import (
    DEFAULT_CONFIG,
    Dateline,
    DatelineConfig,
    build_dateline_config,
    load_dateline_config,
    parse_dateline,
)
from transforms.gazetteer import Gazetteer

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    return Gazetteer.from_config(CONFIGS / "gazetteer.yaml")


@pytest.fixture(scope="session")
def agencies() -> AgencyMatcher:
    return load_agency_matcher(CONFIGS / "agencies.yaml")


@pytest.fixture(scope="session")
def parse(gazetteer: Gazetteer, agencies: AgencyMatcher):
    config = load_dateline_config(DEFAULT_CONFIG)

    def run(paragraph: str) -> Dateline | None:
        return parse_dateline(paragraph, gazetteer, agencies, config)

    return run


# --- shapes that must parse -------------------------------------------------------------------------


def test_mixed_case_place_with_country_qualifier(parse):
    paragraph = "Nusa Dua, Indonesia – Foreign ministers from twenty countries met on Friday."
    dateline = parse(paragraph)
    assert dateline == Dateline(
        raw="Nusa Dua, Indonesia –",
        place="Nusa Dua",
        region="Indonesia",
        country="Indonesia",
        country_code="ID",
        agency=None,
        month=None,
        day=None,
        end=22,
    )
    assert paragraph[dateline.end :].startswith("Foreign ministers")


def test_allcaps_place_with_reuters_credit(parse):
    dateline = parse("WASHINGTON (Reuters) - The central bank left rates unchanged.")
    assert (dateline.place, dateline.country, dateline.country_code) == ("Washington", "United States", "US")
    assert dateline.agency == "Reuters"
    assert dateline.raw == "WASHINGTON (Reuters) -"


def test_allcaps_reuters_dateline_with_date(parse):
    dateline = parse("LONDON, June 5 (Reuters) — Shares in the lender fell sharply.")
    assert (dateline.place, dateline.country_code, dateline.agency) == ("London", "GB", "Reuters")
    assert (dateline.month, dateline.day) == (6, 5)
    assert dateline.raw == "LONDON, June 5 (Reuters) —"


def test_ap_credit_becomes_canonical_agency_name(parse):
    dateline = parse("KYIV, Ukraine (AP) — Air raid sirens sounded across the capital overnight.")
    assert (dateline.place, dateline.region, dateline.country, dateline.country_code) == (
        "Kyiv",
        "Ukraine",
        "Ukraine",
        "UA",
    )
    assert dateline.agency == "Associated Press"


def test_afp_credit_without_date(parse):
    dateline = parse("PARIS (AFP) - Rail workers walked out again on Tuesday.")
    assert (dateline.place, dateline.country_code, dateline.agency) == ("Paris", "FR", "AFP")


@pytest.mark.parametrize(
    ("paragraph", "place", "region", "code", "month", "day"),
    [
        ("NEW YORK, March 3 - Shares of a chemicals maker rose.", "New York", None, "US", 3, 3),
        (
            "BAHIA BLANCA, Argentina, Feb 26 - Wheat loadings slowed.",
            "Bahia Blanca",
            "Argentina",
            "AR",
            2,
            26,
        ),
        ("SAO PAULO, Feb 26 - Dockworkers extended their strike.", "Sao Paulo", None, "BR", 2, 26),
        ("TOKYO, March 2 - The yen firmed in quiet trading.", "Tokyo", None, "JP", 3, 2),
        ("SANTA CLARA, Calif., April 2 - A chipmaker cut its forecast.", "Santa Clara", "Calif.", "US", 4, 2),
        ("CALGARY, Alberta, MARCH 9 - An oil producer sold assets.", "Calgary", "Alberta", "CA", 3, 9),
    ],
)
def test_1987_reuters_wire_datelines(parse, paragraph, place, region, code, month, day):
    dateline = parse(paragraph)
    assert (dateline.place, dateline.region, dateline.country_code) == (place, region, code)
    assert (dateline.month, dateline.day, dateline.agency) == (month, day, None)


def test_us_state_abbreviation_qualifier_gives_united_states(parse):
    dateline = parse("SAN FRANCISCO, Calif. (AP) — Fog delayed flights for hours.")
    assert (dateline.place, dateline.region, dateline.country_code) == ("San Francisco", "Calif.", "US")
    assert dateline.agency == "Associated Press"


def test_abbreviated_month_with_dot_and_double_hyphen(parse):
    dateline = parse("BEIJING, Oct. 12 (Xinhua) -- Harvest figures beat expectations.")
    assert (dateline.place, dateline.country_code, dateline.agency) == ("Beijing", "CN", "Xinhua")
    assert (dateline.month, dateline.day) == (10, 12)


def test_colon_separator_after_known_capital(parse):
    dateline = parse("Brussels: The EU agreed new rules on batteries.")
    assert (dateline.place, dateline.country_code, dateline.raw) == ("Brussels", "BE", "Brussels:")
    assert dateline.end == len("Brussels: ")


def test_place_without_comma_before_double_hyphen(parse):
    dateline = parse("MOSCOW -- Officials denied the report.")
    assert (dateline.place, dateline.country, dateline.raw) == ("Moscow", "Russia", "MOSCOW --")


# Unspaced hyphens and en dashes join words (WINSTON-SALEM, Paris–Berlin), so they are left out here.
_DASH_STYLES = [
    (dash, before, after)
    for dash in ["-", "–", "—", "--"]
    for before, after in [(" ", " "), ("", ""), (" ", ""), ("", " ")]
    if dash in ("—", "--") or before or after
]


@pytest.mark.parametrize(("dash", "before", "after"), _DASH_STYLES)
def test_every_dash_style_ends_the_dateline(parse, dash, before, after):
    paragraph = f"CAIRO{before}{dash}{after}Talks resumed."
    dateline = parse(paragraph)
    assert dateline.place == "Cairo"
    assert paragraph[dateline.end :] == "Talks resumed."


def test_unresolvable_allcaps_place_still_parses_without_country(parse):
    dateline = parse("SMALLVILLE (Reuters) - A grain elevator burned down.")
    assert (dateline.place, dateline.country, dateline.country_code) == ("Smallville", None, None)
    assert dateline.agency == "Reuters"


def test_hyphenated_place_is_not_cut_at_its_hyphen(parse):
    dateline = parse("WINSTON-SALEM, N.C. - A tobacco company named a new chief.")
    assert (dateline.place, dateline.region, dateline.country_code) == ("Winston-Salem", "N.C.", "US")


def test_wire_text_with_indent_and_line_break_after_dash(parse):
    paragraph = "    NORRISTOWN, Pa., March 18 -\n    Shr 40 cts vs 32 cts"
    dateline = parse(paragraph)
    assert dateline.raw == "NORRISTOWN, Pa., March 18 -"
    assert paragraph[dateline.end :] == "Shr 40 cts vs 32 cts"


def test_allcaps_place_takes_gazetteer_spelling_or_title_case(parse):
    assert parse("RIO DE JANEIRO, MARCH 13 - Port workers struck.").place == "Rio de Janeiro"
    assert parse("EAST SMALLVILLE, Kan. (AP) — A tornado hit.").place == "East Smallville"
    assert parse("DALLAS/FORT WORTH, Texas, March 9 - Airlines added flights.").place == "Dallas/Fort Worth"


def test_mixed_case_place_is_kept_as_written(parse):
    assert parse("Toronto, Feb 26 - A trust company expects higher earnings.").place == "Toronto"


def test_day_month_order_and_year_are_read(parse):
    dateline = parse("LONDON, 5 June 2023 (Reuters) - Retail sales rose.")
    assert (dateline.place, dateline.month, dateline.day, dateline.agency) == ("London", 6, 5, "Reuters")


def test_date_between_two_dashes_belongs_to_the_dateline(parse):
    paragraph = "CHEVY CHASE, Md., - March 4 - An insurer named two directors."
    dateline = parse(paragraph)
    assert (dateline.place, dateline.region, dateline.month, dateline.day) == ("Chevy Chase", "Md.", 3, 4)
    assert paragraph[dateline.end :].startswith("An insurer")


def test_credit_after_date_is_split_off_even_if_unknown(parse):
    dateline = parse("MONTREAL, March 20, Reuter - The seaway will reopen.")
    assert (dateline.place, dateline.country_code, dateline.month, dateline.day) == ("Montreal", "CA", 3, 20)


def test_leading_marks_stay_in_raw_but_not_in_place(parse):
    dateline = parse("****SANTO DOMINGO, March 4 - The republic sold sugar.")
    assert dateline.raw.startswith("****")
    assert (dateline.place, dateline.country_code) == ("Santo Domingo", "DO")


def test_lowercase_wire_dateline_needs_date_and_known_place(parse):
    dateline = parse("la paz, march 4 - about 1,000 bank employees went on strike.")
    assert (dateline.place, dateline.country_code, dateline.month) == ("la paz", "BO", 3)
    assert parse("our town, march 4 - nothing happened.") is None


def test_state_qualifier_that_is_also_a_country_follows_the_city(parse):
    assert parse("ATLANTA, Georgia - A bottler raised prices.").country_code == "US"
    assert parse("TBILISI, Georgia - Protesters gathered.").country_code == "GE"


def test_well_known_mixed_case_place_may_stand_alone(parse):
    dateline = parse("London - Colombia is arranging two co-financings.")
    assert (dateline.place, dateline.country_code) == ("London", "GB")


def test_dateline_alone_in_its_paragraph(parse):
    dateline = parse("WASHINGTON (AP) —")
    assert dateline.place == "Washington" and dateline.end == len("WASHINGTON (AP) —")


# --- sentences that are not datelines ---------------------------------------------------------------


@pytest.mark.parametrize(
    "paragraph",
    [
        "",
        "   ",
        "-",
        "—",
        " -- ",
        "Washington, which has long resisted the plan, agreed.",
        "Washington, which has long - and loudly - resisted.",
        "The minister said - in a statement - that talks would go on.",
        "In 2020 - the year of the pandemic - sales fell.",
        "Meanwhile, analysts – who had expected a cut – were surprised.",
        "Meanwhile, Russia – the largest producer – cut output.",
        "France, Germany – these two countries drive the bloc.",
        "Jordan – who scored 30 points – was the star.",
        "Smallville - the town nobody had heard of - won.",
        "Police: The suspect fled on foot.",
        "Note: figures are provisional.",
        "Update: the company responded.",
        "First Bancorp, Troy, N.C. - Initial offering of shares at an estimated price.",
        "Rosario - 6, 5, 7",
        "WHEAT - No Two Soft Red Winter unchanged.",
        "UPDATE 2-Stocks fall as yields climb",
        "A Very Long Capitalised Headline That Keeps On Going Beyond Any Dateline - text",
        "Mr. Smith, U.S. – the ambassador – spoke first.",
        "TANDIL.............--.......15............5",
        "GOLD - Bullion fixed higher in London.",
        "Paris–Berlin talks resumed on Monday.",
    ],
)
def test_ordinary_openings_are_not_datelines(parse, paragraph):
    assert parse(paragraph) is None


# --- configuration ----------------------------------------------------------------------------------


def _settings() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


def test_colon_style_can_be_switched_off(gazetteer, agencies):
    config = build_dateline_config({**_settings(), "colon_separator": False})
    assert parse_dateline("Brussels: The EU agreed.", gazetteer, agencies, config) is None


def test_max_head_chars_caps_the_dateline_length(gazetteer, agencies):
    config = build_dateline_config({**_settings(), "max_head_chars": 10})
    paragraph = "SANTA CLARA, Calif., April 2 - A chipmaker cut its forecast."
    assert parse_dateline(paragraph, gazetteer, agencies, config) is None
    assert parse_dateline("TOKYO - Prices rose.", gazetteer, agencies, config).place == "Tokyo"


def test_default_config_is_used_when_none_is_given(gazetteer, agencies):
    assert isinstance(load_dateline_config(), DatelineConfig)
    assert parse_dateline("TOKYO - Prices rose.", gazetteer, agencies).country_code == "JP"


# --- gazetteer --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "qualifier", "expected"),
    [
        ("Kyiv", None, ("Ukraine", "UA")),
        ("Kiev", None, ("Ukraine", "UA")),
        ("ZÜRICH", None, ("Switzerland", "CH")),
        ("zurich", None, ("Switzerland", "CH")),
        ("Washington", None, ("United States", "US")),
        ("Hong Kong", None, ("Hong Kong", "HK")),
        ("Nusa Dua", "Indonesia", ("Indonesia", "ID")),
        ("Springfield", "Mass.", ("United States", "US")),
        ("Anytown", "N.Y.", ("United States", "US")),
        ("Anytown", "Texas", ("United States", "US")),
        ("Anytown", "UK", ("United Kingdom", "GB")),
        ("Anytown", "Britain", ("United Kingdom", "GB")),
        ("Anytown", "U.S.", ("United States", "US")),
        ("Georgetown", "Grand Cayman, Cayman Islands", ("Cayman Islands", "KY")),
        ("St. Joseph", "Mo.", ("United States", "US")),
        ("Nowhere At All", None, None),
    ],
)
def test_gazetteer_resolves_places_and_qualifiers(gazetteer, place, qualifier, expected):
    assert gazetteer.resolve(place, qualifier) == expected


@pytest.mark.parametrize(
    ("place", "country"),
    [
        ("Moscow", "Russia"),
        ("Tehran", "Iran"),
        ("Seoul", "South Korea"),
        ("Taipei", "Taiwan"),
        ("Chicago", "United States"),
        ("Manchester", "United Kingdom"),
    ],
)
def test_gazetteer_returns_common_short_country_names(gazetteer, place, country):
    assert gazetteer.resolve(place)[0] == country


def test_gazetteer_prefers_most_populous_city_of_a_name(gazetteer):
    assert gazetteer.resolve("London") == ("United Kingdom", "GB")
    assert gazetteer.resolve("London", "Ontario") == ("Canada", "CA")


# --- properties -------------------------------------------------------------------------------------

_DATELINE_ALPHABET = "ABCNOSWYaeinorst ,.-–—:()'\n\t0123456789ÉéÜß"
_PLACES = ["LONDON", "NEW YORK", "Nusa Dua, Indonesia", "SANTA CLARA, Calif.", "Paris", "KYIV, Ukraine"]


def _assert_consistent(paragraph: str, dateline: Dateline | None) -> None:
    if dateline is None:
        return
    stripped = paragraph.lstrip()
    assert stripped.startswith(dateline.raw)
    assert len(paragraph) - len(stripped) + len(dateline.raw) <= dateline.end <= len(paragraph)
    assert dateline.place.casefold() in " ".join(dateline.raw.split()).casefold()
    assert dateline.month is None or 1 <= dateline.month <= 12
    assert dateline.day is None or 1 <= dateline.day <= 31


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises_and_results_are_consistent(parse, paragraph):
    _assert_consistent(paragraph, parse(paragraph))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_DATELINE_ALPHABET, max_size=80))
def test_dateline_like_noise_never_raises_and_results_are_consistent(parse, paragraph):
    _assert_consistent(paragraph, parse(paragraph))


@settings(max_examples=200, deadline=None)
@given(
    place=st.sampled_from(_PLACES),
    date=st.one_of(
        st.none(), st.tuples(st.sampled_from(["Jan.", "March", "Sept.", "Oct"]), st.integers(1, 31))
    ),
    credit=st.sampled_from(["", " (Reuters)", " (AP)", " (AFP)"]),
    dash=st.sampled_from([" - ", " – ", " — ", " -- ", "—"]),
    story=st.sampled_from(["The talks ended.", "Shares rose 5 pct.", "“We are ready,” she said."]),
)
def test_generated_wire_datelines_parse_back(parse, place, date, credit, dash, story):
    date_text = f", {date[0]} {date[1]}" if date else ""
    paragraph = f"{place}{date_text}{credit}{dash}{story}"
    dateline = parse(paragraph)
    assert dateline is not None
    assert dateline.place.casefold() == place.split(",")[0].casefold()
    assert paragraph[dateline.end :] == story
    assert dateline.day == (date[1] if date else None)
    _assert_consistent(paragraph, dateline)


@pytest.mark.parametrize(
    ("line", "place", "code", "date"),
    [
        ("LONDON 1996-12-06", "London", "GB", (1996, 12, 6)),
        ("WASHINGTON, D.C. 2001-03-04", "Washington", "US", (2001, 3, 4)),
    ],
)
def test_archive_dateline_line_with_iso_date(gazetteer, agencies, line, place, code, date):
    dateline = parse_dateline(line, gazetteer, agencies)
    assert (dateline.place, dateline.country_code, (dateline.year, dateline.month, dateline.day)) == (place, code, date)
    assert dateline.end == len(line)


@pytest.mark.parametrize(
    "line", ["Results of the 1996-12-06", "In 1996-12-06", "Tuesday 1996-12-06", "LONDON 1996-13-40"]
)
def test_iso_dated_lines_that_are_not_datelines(gazetteer, agencies, line):
    assert parse_dateline(line, gazetteer, agencies) is None


def test_a_cached_gazetteer_answers_the_same_from_many_threads(run_config, tmp_path, monkeypatch):
    """Its large tables are looked up in the cache file; the worker's threads share one connection."""
    monkeypatch.setenv("NEWSBEAM_CACHE_DIR", str(tmp_path))
    config = run_config["gazetteer"]
    built = gazetteer_module._load_or_build(config, lambda: Gazetteer.from_mapping(config))
    loaded = gazetteer_module._load_or_build(config, lambda: pytest.fail("the cache was not used"))
    places = ["Nusa Dua", "KYIV", "Santa Clara", "São Paulo", "Georgia", "Washington", "Nowhereville"] * 50
    expected = [built.resolve(place) for place in places]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: [loaded.resolve(place) for place in places], range(16)))
    assert answers == [expected] * 16


@pytest.mark.slow
def test_gazetteer_cache_gives_the_built_gazetteer(run_config, tmp_path, monkeypatch):
    """A gazetteer loaded from the disk cache answers as one built from the libraries; a damaged cache
    file is rebuilt, and another config gets a cache file of its own."""
    monkeypatch.setenv("NEWSBEAM_CACHE_DIR", str(tmp_path))
    config = run_config["gazetteer"]
    built = gazetteer_module._load_or_build(config, lambda: Gazetteer.from_mapping(config))
    [cached_file] = tmp_path.glob("gazetteer-*.sqlite")
    assert not list(tmp_path.glob(".*"))  # written through a temporary file, renamed into place
    loaded = gazetteer_module._load_or_build(config, lambda: pytest.fail("the cache was not used"))
    places = ["Nusa Dua", "KYIV", "Santa Clara", "São Paulo", "Georgia", "Washington", "Nowhereville"]
    assert [loaded.resolve(p) for p in places] == [built.resolve(p) for p in places]
    assert loaded.resolve("Nusa Dua", "Indonesia") == ("Indonesia", "ID")
    assert loaded.resolve("KYIV") == ("Ukraine", "UA")
    assert loaded.resolve("Columbus", "Ohio") == built.resolve("Columbus", "Ohio") == ("United States", "US")

    assert loaded.spelling("RIO DE JANEIRO") == built.spelling("RIO DE JANEIRO") == "Rio de Janeiro"

    cached_file.write_bytes(b"not a database")
    rebuilt = gazetteer_module._load_or_build(config, lambda: Gazetteer.from_mapping(config))
    assert rebuilt.resolve("KYIV") == ("Ukraine", "UA")
    assert cached_file.read_bytes() != b"not a database"

    other = {**config, "place_aliases": {"FR": ["Gay Paree"]}}
    aliased = gazetteer_module._load_or_build(other, lambda: Gazetteer.from_mapping(other))
    assert aliased.resolve("Gay Paree") == ("France", "FR") and built.resolve("Gay Paree") is None
    assert len(list(tmp_path.glob("gazetteer-*.sqlite"))) == 2


@pytest.mark.slow
def test_building_a_gazetteer_cache_deletes_the_ones_unused_for_cache_keep_days(run_config, tmp_path, monkeypatch):
    """Every config or library change names a new 7-8 MB cache file; old ones must not pile up, and a file
    opened by a run counts as used, whenever it was built."""
    monkeypatch.setenv("NEWSBEAM_CACHE_DIR", str(tmp_path))
    config = {**run_config["gazetteer"], "cache_keep_days": 30}
    month_ago = time.time() - 31 * 86400

    def aged(name: str, when: float = month_ago) -> Path:
        path = tmp_path / name
        path.write_bytes(b"x")
        os.utime(path, (when, when))
        return path

    stale = [aged("gazetteer-0123.json"), aged("gazetteer-4567.sqlite"), aged(".gazetteer-89ab.sqlite")]
    recent = aged("gazetteer-cdef.sqlite", time.time() - 29 * 86400)
    unrelated = aged("notes.txt")
    gazetteer_module._load_or_build(config, lambda: Gazetteer.from_mapping(config))
    [current] = set(tmp_path.glob("gazetteer-*.sqlite")) - {recent}
    assert not any(path.exists() for path in stale)
    assert recent.exists() and unrelated.exists()

    os.utime(current, (month_ago, month_ago))
    gazetteer_module._load_or_build(config, lambda: pytest.fail("the cache was not used"))
    other = {**config, "place_aliases": {"FR": ["Gay Paree"]}}
    gazetteer_module._load_or_build(other, lambda: Gazetteer.from_mapping(other))
    assert current.exists()  # opened a moment ago, though built a month ago
    assert len(list(tmp_path.glob("gazetteer-*.sqlite"))) == 3


def test_dateline_glued_to_the_story_after_a_credit(parse):
    dateline = parse("Hong Kong (Harbour Business)A muddled picture emerged on Monday.")
    assert (dateline.place, dateline.country_code) == ("Hong Kong", "HK")
    assert dateline.raw == "Hong Kong (Harbour Business)"


def test_dateline_in_capitals_with_its_country_alone_on_its_line(parse):
    dateline = parse("BAAR, SWITZERLAND")
    assert (dateline.place, dateline.country_code) == ("Baar", "CH")


@pytest.mark.parametrize("line", ["SALES UP, PROFITS DOWN", "BREAKING NEWS", "Contact (Press Office)The team"])
def test_capital_headings_and_contacts_are_not_datelines(parse, line):
    assert parse(line) is None
