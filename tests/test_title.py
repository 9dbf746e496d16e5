"""Headlines without the site's name, section prefixes and publication labels."""

from __future__ import annotations

import pytest

from transforms.title import choose_headline, title_without_site

LABELS = {"opinion", "editorial", "world"}


def is_label(part: str) -> bool:
    return part.casefold() in LABELS


@pytest.mark.parametrize("title, site, url, headline", [
    ("Ferry trial approved | Harbour Post", "Harbour Post", None, "Ferry trial approved"),
    ("Harbourpost | Ferry trial approved", None, "https://www.harbourpost.example/a", "Ferry trial approved"),
    ("Ferry trial approved - Harbour Post - News from the bay", "Harbour Post - News from the bay", None,
     "Ferry trial approved"),
    ("Opinion | Late ferries are a lifeline", None, None, "Late ferries are a lifeline"),
    ("Late ferries are a lifeline | Editorial | Harbour Post", "Harbour Post", None, "Late ferries are a lifeline"),
    ("World - Ferry trial approved", None, None, "Ferry trial approved"),
    ("Ferry trial approved: what crews say", None, None, "Ferry trial approved: what crews say"),
])
def test_site_name_and_labels_leave_the_title(title, site, url, headline):
    assert title_without_site(title, site, url, is_label) == headline


def test_a_title_that_is_only_the_site_name_gives_way_to_the_headline():
    candidates = ["Harbour Post", "Harbour Post", "Ferry trial approved"]
    assert choose_headline(candidates, "Harbour Post", None, is_label) == "Ferry trial approved"


def test_a_page_whose_titles_are_all_the_site_name_has_no_headline():
    assert choose_headline(["Harbour Post", "harbourpost"], "Harbour Post", None, is_label) is None
