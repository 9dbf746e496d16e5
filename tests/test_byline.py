"""Printed bylines become a list of people and an agency: one test per byline form."""

from __future__ import annotations

import pytest

from transforms.agencies import build_agency_matcher
from transforms.byline import BylineRules, parse_byline


@pytest.fixture(scope="module")
def read(run_config):
    rules = BylineRules.from_config(run_config["boilerplate"]["authors"])
    agencies = build_agency_matcher(run_config["agencies"]["agencies"])
    return lambda byline: parse_byline(byline, rules, agencies)


def test_lead_word_goes_in_each_language(read):
    assert read("By Jane Doe").names == ["Jane Doe"]
    assert read("Von Lena Vogt und Paul Brandt").names == ["Lena Vogt", "Paul Brandt"]
    assert read("Par Claire Martin").names == ["Claire Martin"]
    assert read("Текст Ольга Смирнова").names == ["Ольга Смирнова"]
    assert read("Text: Jonas Berg").names == ["Jonas Berg"]


def test_credit_line_keeps_reporters_and_drops_editors(read):
    found = read("Reporting by Ana Ruiz and Tom Okoro; Additional reporting by Li Wei; Editing by Mark Hale")
    assert found.names == ["Ana Ruiz", "Tom Okoro", "Li Wei"]


def test_degrees_are_not_names(read):
    assert read("Maria Lopez; MS; RDN").names == ["Maria Lopez"]
    assert read("Sam Patel, PhD").names == ["Sam Patel"]


def test_time_stamp_after_the_name_goes(read):
    assert read("Jane Doe Published 5:45 AM PST").names == ["Jane Doe"]


def test_organisation_is_not_a_person(read):
    assert read("Harbour City News wire services Published").names == []


def test_body_text_yields_no_author(read):
    assert read("The Russian; Syrian defense ministries").names == []
    assert read("reported by the port authority on Monday").names == []


def test_role_with_agency_fills_agency(read):
    found = read("Greg Hale; Ap Sports Writer")
    assert (found.names, found.agency) == (["Greg Hale"], "Associated Press")
    assert read("By Ruth Amani, Staff Writer").names == ["Ruth Amani"]


def test_agency_credit_alone_is_an_agency_not_a_name(read):
    for byline, agency in [("(Reuters)", "Reuters"), ("AFP", "AFP"), ("Ana Ruiz | Reuters", "Reuters")]:
        found = read(byline)
        assert found.agency == agency and agency not in found.names


def test_names_in_capitals_or_without_case_are_kept(read):
    assert read("R.C. MILLER").names == ["R.C. MILLER"]
    assert read("王小明").names == ["王小明"]
    assert read("Jean-Luc de la Tour").names == ["Jean-Luc de la Tour"]


def test_a_user_name_alone_is_its_author(read):
    assert read("harbourfan42").names == ["harbourfan42"]
