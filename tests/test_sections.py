"""The section partition key: the desk taxonomy, its multilingual aliases, label choice and inference."""

from __future__ import annotations

import pytest

from transforms.gazetteer import Gazetteer
from transforms.sections import (
    Inference,
    SectionIndex,
    choose_section,
    fold,
    infer_section,
    label_parts,
    place_desk,
    section_from_url,
)

LANGUAGES = {"en", "es", "fr", "de", "it", "pt", "nl", "ru", "pl", "ja", "zh", "ar"}


@pytest.fixture(scope="module")
def gazetteer(run_config) -> Gazetteer:
    return Gazetteer.shared(run_config["gazetteer"])


def test_the_default_taxonomy_is_the_twelve_newsroom_desks(sections):
    assert sections.desks == ("world", "national", "local", "politics", "business", "technology", "science",
                              "health", "sports", "entertainment", "lifestyle", "opinion")
    assert sections.fallback == "unknown"


def test_every_desk_has_aliases_in_every_required_language(run_config):
    for desk, languages in run_config["sections"]["aliases"].items():
        assert LANGUAGES <= set(languages), (desk, LANGUAGES - set(languages))


def test_every_alias_of_the_table_maps_to_its_own_desk(run_config, sections):
    for desk, languages in run_config["sections"]["aliases"].items():
        for language, labels in languages.items():
            for label in labels:
                assert sections.known(label) == desk, (language, label)


@pytest.mark.parametrize("label, desk", [
    ("World News", "world"), ("U.S.", "national"), ("UK News", "national"), ("Inland", "national"),
    ("Wirtschaft", "business"), ("Deportes", "sports"), ("Économie", "business"), ("Спорт", "sports"),
    ("国际", "world"), ("国内", "national"), ("Esportes", "sports"), ("Binnenland", "national"),
    ("Polityka", "politics"), ("スポーツ", "sports"), ("رياضة", "sports"), ("Politique", "politics"),
    ("Spettacoli", "entertainment"), ("Meinung", "opinion"), ("Real Estate", "business"), ("Autos", "lifestyle"),
    ("Arts & Culture", "entertainment"), ("Travel", "lifestyle"), ("Religion", "lifestyle"), ("Column", "opinion"),
])
def test_labels_in_many_languages_map_to_desks(sections, label, desk):
    assert sections.known(label) == desk


def test_labels_fold_in_every_script():
    assert fold("  ÉCONOMIE  &  Marchés ") == "economie & marches"
    assert fold("Спорт") == "спорт" and fold("国际") == "国际"
    assert fold("Entertainment_Arts") == "entertainment arts"


def test_an_alias_listed_under_two_desks_is_a_configuration_error(run_config):
    cfg = {**run_config["sections"], "aliases": {"world": {"en": ["abroad"]}, "national": {"en": ["Abroad"]}}}
    with pytest.raises(ValueError, match="listed under"):
        SectionIndex.from_config(cfg)


def test_a_desk_that_is_not_a_folder_safe_slug_is_a_configuration_error(run_config):
    with pytest.raises(ValueError, match="folder-safe"):
        SectionIndex.from_config({**run_config["sections"], "taxonomy": ["world", "../up"]})


def test_the_deepest_crumb_of_a_trail_that_maps_names_the_desk(sections):
    assert label_parts("Home › Wide Angle › Culture") == ["Home", "Wide Angle", "Culture"]
    assert sections.desk_of("Home › Wide Angle › Culture") == "entertainment"
    assert sections.desk_of("Entertainment & Arts › Business") == "business"
    assert sections.desk_of("Politik > Ausland > Wide Angle") == "world"
    assert sections.desk_of("Company Town") is None


def test_the_first_item_of_a_list_that_maps_names_the_desk(sections):
    assert sections.desk_of("Mundo, América") == "world"
    assert sections.desk_of("Biology / Biochemistry, Neurology / Neuroscience") == "science"
    assert sections.desk_of("Wide Angle; Deportes, Politik") == "sports"


def test_a_trail_passing_through_the_chosen_desk_to_a_deeper_one_refines_it(sections):
    choice = choose_section({"html_meta": ["Politik"], "url_path": ["politik", "international"]}, sections)
    assert (choice.section, choice.source, choice.label) == ("world", "url_path", "international")
    choice = choose_section({"html_meta": ["Sport"], "url_path": ["politik", "international"]}, sections)
    assert (choice.section, choice.source) == ("sports", "html_meta")
    choice = choose_section({"html_meta": ["Politik"], "breadcrumb": "Start › Politik › Ausland"}, sections)
    assert (choice.section, choice.source) == ("world", "breadcrumb")


def test_a_source_that_maps_beats_an_earlier_source_that_does_not(sections):
    choice = choose_section({"breadcrumb": "Company Town", "html_meta": ["Wide Angle", "Deportes"]}, sections)
    assert (choice.section, choice.source, choice.label) == ("sports", "html_meta", "Deportes")
    choice = choose_section({"breadcrumb": "The Big Story", "url_path": ["entertainment-arts"]}, sections)
    assert (choice.section, choice.source, choice.label) == ("entertainment", "url_path", "entertainment-arts")


def test_the_configured_order_decides_between_sources_that_map(sections):
    assert choose_section({"breadcrumb": "World", "url_path": ["business"]}, sections).source == "breadcrumb"
    assert choose_section({"sidecar": "Politics", "breadcrumb": "World"}, sections).section == "politics"


def test_no_usable_label_is_the_fallback_keeping_the_first_label(sections):
    assert choose_section({"breadcrumb": None}, sections) == choose_section({}, sections)
    choice = choose_section({"breadcrumb": "Minnesota Wild", "html_meta": ["White Label"]}, sections)
    assert (choice.section, choice.source, choice.label) == ("unknown", "none", "Minnesota Wild")


@pytest.mark.parametrize("url, found", [
    ("https://x.example/world/asia/2024/05/01/story", ("world", "asia")),
    ("https://x.example/politik/ausland/story", ("world", "ausland")),  # the deepest folder that maps
    ("https://sport.x.example/stories/3017954/", ("sports", "sport")),  # a host label before the site's name
    ("https://www.x.co.uk/nation/story", ("national", "nation")),
    ("https://uk.x.example/2024/05/01/story", None),  # two letters: an edition, not a section
    ("https://web.archive.org/web/20120216182711/http://www.x.example/Artikel/Politik/", ("politics", "Politik")),
    ("https://x.example/news/us/article/story-123.php", ("national", "us")),
    ("https://x.example/science-and-health/2019/11/8/1/story", ("science", "science-and-health")),
    ("https://x.example/news/world-us-canada-52241221", ("world", "world-us-canada-52241221")),
    ("https://x.example/sport/fu%C3%9Fball/story", ("sports", "fußball")),
    ("https://x.example/2024/05/01/sports-star-retires", None),  # the article's own slug names no section
    ("https://x.example/2024/05/01/story", None),
    ("not a url", None),
])
def test_url_path_segments_name_desks(sections, url, found):
    assert section_from_url(url, sections) == found


def test_a_label_naming_a_place_maps_by_where_the_site_is(gazetteer):
    assert place_desk("Düsseldorf", gazetteer, "DE") == "local"
    assert place_desk("Düsseldorf", gazetteer, None) == "local"
    assert place_desk("Düsseldorf", gazetteer, "FR") == "world"
    assert place_desk("Germany", gazetteer, "DE") == "national"
    assert place_desk("Germany", gazetteer, "GB") == "world"
    assert place_desk("Texas", gazetteer, "US") == "local"
    assert place_desk("Company Town", gazetteer, "US") is None


def test_place_labels_count_only_when_no_alias_maps(sections, gazetteer):
    def places(label: str) -> str | None:
        return place_desk(label, gazetteer, "DE")
    assert choose_section({"breadcrumb": "Düsseldorf", "url_path": ["sport"]}, sections, places).section == "sports"
    choice = choose_section({"breadcrumb": "Düsseldorf"}, sections, places)
    assert (choice.section, choice.source) == ("local", "breadcrumb")


TINY = Inference(terms={"sports": {"coach": 3.0, "season": 3.0, "team": 1.0, "goal*": 1.0},
                        "business": {"shares": 3.0, "earnings": 3.0, "company": 1.0},
                        "world": {"国际": 3.0}},
                 field_weights={"title": 3, "lead": 1, "url": 2}, lead_words=20, min_score=3, min_margin=1.5)


def test_inference_weighs_terms_by_where_they_are_found():
    assert infer_section("Coach sacked after poor season", "", None, TINY) == "sports"
    assert infer_section(None, "The coach spoke.", None, TINY) == "sports"  # 3 points in the lead
    assert infer_section(None, "The company spoke.", None, TINY) is None  # 1 point: below min_score
    assert infer_section(None, "", "https://x.example/2024/earnings-beat", TINY) == "business"


def test_inference_reads_the_site_name_and_host_labels_and_not_an_archive_host():
    assert infer_section(None, "", "https://www.coach.example/a/1", TINY) == "sports"  # the site's name
    assert infer_section(None, "", "https://earnings.x.example/a/1", TINY) == "business"  # a host label
    archived = "https://web.archive.org/web/20200101000000/https://x.example/shares-rally"
    assert infer_section(None, "", archived, TINY) == "business"


def test_inference_needs_a_clear_margin_over_the_runner_up():
    assert infer_section("Coach buys shares", "", None, TINY) is None
    assert infer_section("Coach buys shares", "The coach, the season and the team", None, TINY) == "sports"


def test_inference_terms_match_prefixes_whole_words_and_unspaced_scripts():
    assert infer_section(None, "Goals galore for the team", None, TINY) is None  # goal* 1 + team 1 = 2 < 3
    assert infer_section("Goalless draw", "", None, TINY) == "sports"  # goal* in the title: 3
    assert infer_section("Seasoned investors", "", None, TINY) is None  # "season" is a whole word only
    assert infer_section("外交部国际新闻", "", None, TINY) == "world"


def test_inference_counts_only_the_lead():
    far = "word " * 25 + "coach season"
    assert infer_section(None, far, None, TINY) is None


def test_the_shipped_inference_tables_read_the_desk_of_plain_stories(sections):
    cases = {
        "sports": ("Rovers coach praises team after late goal", "The coach said the players fought all season."),
        "business": ("Shares fall after earnings miss", "The company said revenue fell and investors sold."),
        "science": ("NASA telescope finds water on distant planet", "Researchers said the spacecraft data show."),
        "health": ("Hospitals brace for flu outbreak", "Doctors said patients with symptoms should stay home."),
        "entertainment": ("Singer announces album and world tour", "The band will play concerts in ten cities."),
        "technology": ("New smartphone software update fixes battery drain", "Users of the app reported issues."),
        "politics": ("Senate passes budget after late vote", "Lawmakers in Congress debated the legislation."),
        "lifestyle": ("Ten recipes for a quick weeknight meal", "Our chef shares cooking tips for the kitchen."),
        "local": ("Police close downtown street after crash", "The mayor said residents should avoid the area."),
    }
    in_other_languages = {  # the tables cover the languages of the aliases, not English alone
        "politics": ("La ministra anuncia reformas", "El ministerio y la oposición debatieron."),
        "health": ("Ospedale in allerta", "I medici e i pazienti aspettano il vaccino."),
        "sports": ("Turnier in Berlin", "Die Spielerin und ihre Trainerin feierten."),
        "local": ("Le maire ferme la rue", "La mairie et le quartier attendent."),
    }
    cases |= {f"{desk} ({title})": (title, lead) for desk, (title, lead) in in_other_languages.items()}
    for case, (title, lead) in cases.items():
        assert infer_section(title, lead, None, sections.inference) == case.split(" (")[0], case
    assert infer_section("A day", "Nothing much happened at all.", None, sections.inference) is None
