"""Plain enrichment functions: identities, entity merging, language (sections and dates have their own files)."""

from __future__ import annotations

from transforms.entities import clean_mention, merge_mentions
from transforms.identity import article_id, canonical_url, identifying_url
from transforms.language import LanguageSettings, detect_language, seed_detector

LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC"})


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
