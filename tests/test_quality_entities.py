"""The entities eval (CoNLL reading, span scoring) and the NER context rules it measures."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from quality.entities import gold_spans, prf, read_conll, score
from quality.report import CorpusError
from transforms.entities import (
    ContextRules,
    EntityRecognizer,
    is_hard_wrapped,
    is_table_row,
    is_wrap,
    merge_mentions,
    recase_shouting,
    resolve_mentions,
    shouting_lines,
    split_span,
)
from transforms.gazetteer import Gazetteer

FIXTURE = Path(__file__).parent / "fixtures" / "eval" / "conll_tiny.txt"
RULES = ContextRules()


@pytest.fixture(scope="module")
def places(run_config) -> Gazetteer:
    return Gazetteer.from_mapping(run_config["gazetteer"])


@pytest.fixture(scope="module")
def recognizer(run_config) -> EntityRecognizer:
    return EntityRecognizer.from_config(run_config)


def spans_of(text: str, names: dict[str, str]) -> list[tuple[int, int, str]]:
    """Model-like spans: the first occurrence of each name with its label."""
    return [(text.index(name), text.index(name) + len(name), label) for name, label in names.items()]


def labelled(text: str, mentions) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.label) for m in mentions]


def test_precision_recall_f1_by_hand():
    gold = {(0, 0, 5, "PER"), (0, 10, 15, "ORG"), (0, 20, 25, "LOC")}
    predicted = {(0, 0, 5, "PER"), (0, 10, 15, "LOC"), (0, 20, 25, "LOC"), (0, 30, 35, "PER")}
    metrics = prf(gold, predicted)
    assert (metrics["P"], metrics["R"], metrics["F1"]) == (0.5, 0.6667, 0.5714)  # 2 of 4 right, 2 of 3 found
    assert metrics["PER_F1"] == 0.6667  # P 1/2, R 1/1
    assert metrics["ORG_F1"] == 0.0
    assert metrics["LOC_F1"] == 0.6667  # P 1/2, R 1/1
    assert prf(set(), set())["F1"] == 0.0


def test_gold_spans_read_iob2_and_iob1_and_skip_misc():
    documents = read_conll(FIXTURE)
    assert [doc.id for doc in documents] == ["doc-001", "doc-002"]
    first, second = (gold_spans(doc, i) for i, doc in enumerate(documents))
    assert {(documents[0].text[a:b], kind) for _, a, b, kind in first} == {
        ("OKAFOR", "PER"), ("KANO", "LOC"), ("LAGOS", "LOC"), ("Amara Okafor", "PER"), ("Kano Pillars", "ORG"),
        ("Lagos", "LOC")}
    # IOB1: I-PER opens an entity; I-ORG after I-MISC is a new entity; MISC is not scored.
    assert second == {(1, 0, 6, "PER"), (1, 25, 30, "ORG")}
    assert documents[0].text.split("\n")[1] == "LAGOS 2024-05-01"


@pytest.mark.parametrize("content", [
    "Okafor NNP I-NP B-PER\n",  # a token before any -DOCSTART-
    "-DOCSTART- -X- -X- O\n\nOkafor NNP B-PER\n",  # three columns
    "-DOCSTART- -X- -X- O\n\nOkafor NNP I-NP PERSON\n",  # not an IOB tag
    "-DOCSTART- -X- -X- O\n\n",  # no sentences at all
])
def test_malformed_corpus_raises(tmp_path, content):
    (tmp_path / "conllpp_test.txt").write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError):
        score(tmp_path, None, lambda done, total: None)


def test_missing_corpus_raises(tmp_path):
    with pytest.raises(CorpusError):
        score(tmp_path / "nowhere", None, lambda done, total: None)


def test_one_label_per_name_and_every_mention_of_a_person_found(places):
    text = "Amara Okafor met Bola Tinubu in Abuja.\nOkafor later flew to Kano, where Okafor spoke."
    spans = spans_of(text, {"Amara Okafor": "PERSON", "Bola Tinubu": "PERSON", "Abuja": "GPE"})
    spans.append((text.index("Okafor later"), text.index("Okafor later") + 6, "GPE"))  # surname taken for a place
    found = labelled(text, resolve_mentions(text, spans, RULES, places))
    assert found == [("Amara Okafor", "PERSON"), ("Bola Tinubu", "PERSON"), ("Abuja", "GPE"),
                     ("Okafor", "PERSON"), ("Kano", "GPE"), ("Okafor", "PERSON")]


def test_a_name_the_story_also_writes_in_lower_case_is_not_spread():
    text = "Lena Mills runs the mills.\nMills said the Mills plant would close."
    spans = spans_of(text, {"Lena Mills": "PERSON", "Mills said": "ORG"})
    spans[1] = (spans[1][0], spans[1][0] + 5, "ORG")
    found = labelled(text, resolve_mentions(text, spans, RULES))
    assert ("Mills", "PERSON") in found  # the labelled mention takes the surname's label
    assert len(found) == 2  # "Mills plant" is not added: "mills" is a word in this story


def test_rules_off_keep_the_model_spans():
    text = "Amara Okafor met Okafor.\nOkafor left."
    spans = spans_of(text, {"Amara Okafor": "PERSON"})
    off = ContextRules(propagate=False, split_spans=False, recase_shouting=False, places=False, tables=False)
    assert labelled(text, resolve_mentions(text, spans, off)) == [("Amara Okafor", "PERSON")]


def test_shouting_lines_are_recased_from_the_story_and_the_gazetteer(places):
    text = "RUGBY - OKAFOR LEADS KANO PILLARS\nKADUNA 2024-05-01\nAmara Okafor joined Kano Pillars."
    recased = recase_shouting(text, RULES, places)
    assert len(recased) == len(text)
    assert recased.split("\n")[:2] == ["rugby - Okafor leads Kano Pillars", "Kaduna 2024-05-01"]
    assert recased.split("\n")[2] == text.split("\n")[2]
    assert recase_shouting("No shouting here.", RULES, places) == "No shouting here."


@pytest.mark.parametrize("span, names", [
    ("Edna Fernandes\nLONDON", ["Edna Fernandes", "LONDON"]),
    ("Arsenal 2", ["Arsenal"]),
    ("the United States 's", ["United States"]),
    ("Urska Horvat (Slovenia", ["Urska Horvat", "Slovenia"]),
    ("Forfar v Alloa", ["Forfar", "Alloa"]),
    ("-- 1996", []),
])
def test_model_spans_are_cut_into_names(span, names):
    assert [span[a:b] for a, b in split_span(span, 0, len(span))] == names


WIRE = ("FARM AID TALKS STALL, SAYS VEXBURA\n"
        "    WASHINGTON, March 5 - U.S. Agriculture Secretary Anatol\n"
        "Vexbura said talks on farm aid had stalled, and an aide to\n"
        "Vexbura said no new offer was planned before the meeting, and\n"
        "Vexbura will travel to Moscow next week to discuss grain sales.\n")


def test_wire_copy_is_hard_wrapped_and_sentences_per_line_are_not():
    wrapped = ContextRules(wrapped_line_chars=40, wrapped_share=0.6)
    assert is_hard_wrapped(WIRE, wrapped)
    assert not is_hard_wrapped(WIRE, ContextRules(wrapped_line_chars=0))
    one_per_line = ("Albania named this squad for Saturday 's qualifier against Portugal :\n"
                    "Defenders - Rudi Vata , Saimir Malko , Arjan Xhumba , Arjan Bellai\n"
                    "Midfielders - Bledar Kola , Altin Haxhi , Sokol Prenga , Ervin Fakaj .")
    assert not is_hard_wrapped(one_per_line, wrapped)
    line = "U.S. Agriculture Secretary Anatol\nVexbura"
    assert is_wrap(line, line.index("\n"), line.index("\n") + 1, 20)
    assert not is_wrap(line, line.index("\n"), line.index("\n") + 1, 40)  # a short line ends its names


def test_a_name_wrapped_across_lines_is_one_person_and_its_surname_follows():
    spans = [(WIRE.index("Anatol"), WIRE.index("Vexbura said") + 7, "PERSON")]
    spans += [(m.start() + 1, m.end(), "ORG") for m in re.finditer("\nVexbura(?! said talks)", WIRE)]
    wrapped = ContextRules(wrapped_line_chars=40, wrapped_share=0.6)
    found = labelled(WIRE, resolve_mentions(WIRE, spans, wrapped))
    assert found[0] == ("Anatol\nVexbura", "PERSON")
    assert {label for text, label in found if text == "Vexbura"} == {"PERSON"}
    cut = labelled(WIRE, resolve_mentions(WIRE, spans, ContextRules()))  # cut at the break, outvoted
    assert ("Vexbura", "ORG") in cut


def test_a_label_read_in_an_all_caps_headline_does_not_outvote_the_body():
    text = "KORETH TELLS IMF FARM AID WILL RISE\n    The aide said Koreth would back the plan."
    recased = "Koreth tells IMF farm aid will rise" + text[text.index("\n"):]
    spans = [(0, 6, "ORG"), (recased.index("IMF"), recased.index("IMF") + 3, "ORG"),
             (recased.index("Koreth would"), recased.index("Koreth would") + 6, "PERSON")]
    assert shouting_lines(text, RULES) == [(0, text.index("\n"))]
    found = labelled(recased, resolve_mentions(recased, spans, RULES, shouted=shouting_lines(text, RULES)))
    assert found == [("Koreth", "PERSON"), ("IMF", "ORG"), ("Koreth", "PERSON")]
    assert labelled(recased, resolve_mentions(recased, spans, RULES))[0] == ("Koreth", "ORG")  # a tie, read first


def test_names_in_results_rows_are_teams_or_countries(places):
    assert is_table_row("Arsenal 2 Derby 1") and is_table_row("Swindon 22 9 2 11 32 28 29")
    assert not is_table_row("Arsenal beat Derby 2-1") and not is_table_row("Chapter 3")
    text = "Arsenal 2 Derby 1\nJapan 3 Syria 0\nJohn Smith 68 70"
    spans = spans_of(text, {"Derby": "GPE", "John Smith": "PERSON"})
    assert labelled(text, resolve_mentions(text, spans, RULES, places)) == [
        ("Arsenal", "ORG"), ("Derby", "ORG"), ("Japan", "GPE"), ("Syria", "GPE"), ("John Smith", "PERSON")]


def test_recognizer_spans_and_entities_come_from_the_same_mentions(recognizer):
    text = ("Nigerian Foreign Minister Amara Okafor met President Bola Tinubu in Abuja on Monday.\n\n"
            "Okafor told reporters in Lagos that the talks with the European Union would resume.")
    (mentions,) = recognizer.mentions("en", [text])
    assert all(text[m.start : m.end] == m.text for m in mentions)
    people = {m.text for m in mentions if m.label == "PERSON"}
    assert {"Amara Okafor", "Bola Tinubu"} <= people
    assert [m.text for m in mentions if m.text == "Okafor"] == ["Okafor"]
    (entities,) = recognizer.recognise("en", [text])
    assert entities == merge_mentions([(m.text, m.label) for m in mentions], recognizer.labels, recognizer.places,
                                      recognizer.names)
    assert next(e for e in entities if e.text == "Amara Okafor").count == 2  # the lone surname counts toward it


def test_new_words_do_not_stay_in_the_model_vocabulary(recognizer):
    """A long run meets new names every day; the model's string store must not keep them all."""
    strings = recognizer.pipelines["en"].vocab.strings
    before = len(strings)
    names = [f"Anatol Vexbur{chr(97 + i)}" for i in range(20)]
    texts = [f"Foreign Minister {name} told reporters in Kelmora on Monday that talks would resume." for name in names]
    found = recognizer.recognise("en", texts)
    assert ("Anatol Vexbura", "PERSON") in {(e.text, e.label) for e in found[0]}  # the texts were read
    assert len(strings) == before
    assert "Vexburh" not in strings


def test_score_on_a_tiny_corpus(tmp_path):
    shutil.copy(FIXTURE, tmp_path / "conllpp_test.txt")
    seen = []
    result = score(tmp_path, None, lambda done, total: seen.append((done, total)))
    assert [s.system for s in result.scores][:2] == ["newsbeam (documents)", "raw model, sentences"]
    assert result.scores[2].published and result.scores[2].metrics["F1"] == 0.59
    assert all(s.items == 2 for s in result.scores[:2])
    assert result.details["gold_entities"] == {"PER": 3, "ORG": 2, "LOC": 3}
    assert seen[-1] == (4, 4)
    limited = score(tmp_path, 1, lambda done, total: None)
    assert limited.details["gold_entities"] == {"PER": 2, "ORG": 1, "LOC": 3}
