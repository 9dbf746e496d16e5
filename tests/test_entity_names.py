"""Entity naming rules: one canonical name per entity, and the word lists of ``configs/entity_rules.yaml``."""

from __future__ import annotations

import pytest

from pipeline.config import load_run_config
from transforms.entities import (
    ContextRules,
    NameLists,
    canonical_name,
    merge_mentions,
    resolve_mentions,
    split_span,
)
from transforms.gazetteer import Gazetteer

RULES = ContextRules()
LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC"})


@pytest.fixture(scope="module")
def places(run_config) -> Gazetteer:
    return Gazetteer.from_mapping(run_config["gazetteer"])


@pytest.fixture(scope="module")
def names() -> NameLists:
    return NameLists.from_config(load_run_config()["entity_rules"])


def spans_of(text: str, found: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """Model-like spans: the first occurrence of each name with its label."""
    return [(text.index(name), text.index(name) + len(name), label) for name, label in found]


def resolved(text: str, found: list[tuple[str, str]], names: NameLists, places: Gazetteer | None = None):
    return [(m.text, m.label) for m in resolve_mentions(text, spans_of(text, found), RULES, places, names)]


def test_variants_of_a_country_are_one_entity_with_its_code(places):
    mentions = [("U.S.", "GPE"), ("US", "GPE"), ("the United States", "GPE"), ("USA", "GPE"), ("Canada", "GPE")]
    entities = merge_mentions(mentions, LABELS, places)
    assert [(e.canonical, e.country_code, e.count) for e in entities] == [
        ("United States", "US", 4), ("Canada", "CA", 1)]


def test_a_city_is_named_as_the_gazetteer_spells_it_with_its_country(places):
    assert canonical_name("RIO DE JANEIRO", "GPE", places) == ("Rio de Janeiro", "BR")
    assert canonical_name("Kelmora", "GPE", places) == ("Kelmora", None)  # unknown place: as written
    assert canonical_name("Jordan", "PERSON", places) == ("Jordan", None)  # only places are looked up


def test_a_country_part_keeps_its_own_name_but_gets_the_country_code(places, names):
    assert canonical_name("England", "GPE", places, names) == ("England", "GB")
    assert canonical_name("Britain", "GPE", places, names) == ("United Kingdom", "GB")


def test_a_surname_is_named_by_the_full_name_of_the_person():
    entities = merge_mentions([("Donald Trump", "PERSON"), ("Trump", "PERSON"), ("Trump", "PERSON")], LABELS)
    assert [(e.canonical, e.label, e.count) for e in entities] == [("Donald Trump", "PERSON", 3)]


def test_a_single_word_of_a_persons_name_is_no_organisation_or_place(places):
    mentions = [("Wang Yi", "PERSON"), ("Wang", "ORG"), ("Wang", "ORG"), ("Yi", "GPE")]
    entities = merge_mentions(mentions, LABELS, places)
    assert [(e.canonical, e.label, e.count) for e in entities] == [("Wang Yi", "PERSON", 4)]
    # A country stays a country even when a person's name contains it.
    entities = merge_mentions([("Rania Jordan", "PERSON"), ("Jordan", "GPE")], LABELS, places)
    assert ("Jordan", "GPE") in {(e.canonical, e.label) for e in entities}


def test_a_labelled_word_of_a_persons_name_becomes_that_person_in_the_text(names):
    text = "Tolani Brisk met officials.\nBrisk said Tolani would stay."
    lone = text.rindex("Tolani")
    spans = [*spans_of(text, [("Tolani Brisk", "PERSON")]), (lone, lone + len("Tolani"), "ORG")]
    found = [(m.text, m.label) for m in resolve_mentions(text, spans, RULES, None, names)]
    assert found == [("Tolani Brisk", "PERSON"), ("Brisk", "PERSON"), ("Tolani", "PERSON")]


def test_never_entities_are_dropped(names):
    text = "The Secretary of State spoke.\nMain\nSlider\nKemi Adebayo left."
    found = resolved(text, [("State", "ORG"), ("Main", "ORG"), ("Slider", "PERSON"), ("Kemi Adebayo", "PERSON")],
                     names)
    assert found == [("Kemi Adebayo", "PERSON")]
    assert resolved("Main Street closed.", [("Main Street", "FAC")], names) == [("Main Street", "FAC")]


def test_role_words_are_cut_from_the_start_of_a_persons_name(names):
    text = "Defender Hassan Obi scored and Prime Minister Ada Eze watched with Sen. Jo Pike."
    found = resolved(text, [("Defender Hassan Obi", "PERSON"), ("Prime Minister Ada Eze", "PERSON"),
                            ("Sen. Jo Pike", "PERSON")], names)
    assert found == [("Hassan Obi", "PERSON"), ("Ada Eze", "PERSON"), ("Jo Pike", "PERSON")]


def test_a_persons_name_ends_at_a_lower_case_word_that_is_no_particle(names):
    text = "Xu Nannan ninth, Ludwig van Brann tenth, Ayo st Bello b Cole."
    found = resolved(text, [("Xu Nannan ninth", "PERSON"), ("Ludwig van Brann", "PERSON"),
                            ("Ayo st Bello b Cole", "PERSON")], names)
    assert found == [("Xu Nannan", "PERSON"), ("Ludwig van Brann", "PERSON"), ("Ayo", "PERSON"),
                     ("Bello", "PERSON"), ("Cole", "PERSON")]


def test_a_company_name_without_its_legal_suffix_is_the_company(names):
    text = "Velbrook Mining Ltd bid again.\nVelbrook said the bid stands.\nVelbrook rose."
    found = resolved(text, [("Velbrook Mining Ltd", "ORG"), ("Velbrook said", "PERSON")], names)
    assert ("Velbrook", "ORG") in found and ("Velbrook", "PERSON") not in found
    assert found.count(("Velbrook", "ORG")) == 2  # the labelled mention and the one found by propagation


def test_one_word_people_in_results_rows_are_teams_but_named_players_stay_people(places, names):
    text = "Dunmore 2 Kilbride 1\nAtletico Madrid 3 Harlow 0\nIfe Cole 68 70\nCole 71"
    found = resolved(text, [("Dunmore", "PERSON"), ("Atletico Madrid", "PERSON"), ("Ife Cole", "PERSON")],
                     names, places)
    assert ("Dunmore", "ORG") in found and ("Kilbride", "ORG") in found
    assert ("Atletico Madrid", "ORG") in found
    assert ("Ife Cole", "PERSON") in found and ("Cole", "PERSON") in found


def test_a_figure_between_names_splits_a_model_span():
    span = "Charlton 2 Swindon"
    assert [span[a:b] for a, b in split_span(span, 0, len(span))] == ["Charlton", "Swindon"]


def test_a_word_made_from_a_name_with_a_prefix_is_no_entity(names):
    text = "The trans-Atlantic route and the al-Rashid family."
    assert resolved(text, [("trans-Atlantic", "LOC"), ("al-Rashid", "PERSON")], names) == [("al-Rashid", "PERSON")]


def test_a_name_read_as_a_place_whose_last_word_is_a_person_is_that_person(names):
    text = "Ola Brandt scored.\nBrandt was fouled.\nBrandt again."
    found = resolved(text, [("Ola Brandt", "GPE"), ("Brandt", "PERSON")], names)
    assert found[0] == ("Ola Brandt", "PERSON")


def test_scorers_in_brackets_of_a_results_row_are_not_teams(places, names):
    text = "Dunmore 2 ( Obi 39 , Eze 89 ) Kilbride 1 ( Hale 83 ) ."
    found = resolved(text, [("Obi", "PERSON"), ("Eze", "PERSON"), ("Hale", "PERSON")], names, places)
    assert found == [("Dunmore", "ORG"), ("Obi", "PERSON"), ("Eze", "PERSON"), ("Kilbride", "ORG"),
                     ("Hale", "PERSON")]
