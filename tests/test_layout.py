"""Furniture stripping, bylines, breadcrumbs and titles on seed-shaped text."""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms.furniture import classify_line, compile_rules
from transforms.layout import layout_text, split_paragraphs

SEED_SHAPED = (Path(__file__).parent / "fixtures" / "seed_shaped.txt").read_text(encoding="utf-8")
FILLER = "This is an ordinary paragraph of article text with well over eighteen words in it so that it is body."


def test_glued_breadcrumb_becomes_section_candidate(layout_rules):
    layout = layout_text(SEED_SHAPED, layout_rules)
    assert layout.breadcrumb == "World"
    assert ("carousel_label", "Main SliderWorld") in layout.removed


def test_title_and_byline_leave_the_body(layout_rules):
    layout = layout_text(SEED_SHAPED, layout_rules)
    assert layout.title == "Ministers pledge to reopen border crossings before harvest, Okafor says"
    assert layout.bylines == ["Reuters"]
    body = "\n".join(layout.paragraphs)
    assert body.startswith("Lagos, Nigeria – Nigerian Foreign Minister")
    for furniture in ("Main Slider", "Story by", "Related Articles", "Back to top button"):
        assert furniture not in body


def test_every_removed_line_names_its_own_rule(layout_rules):
    removed = dict((line, rule) for rule, line in layout_text(SEED_SHAPED, layout_rules).removed)
    assert removed["Related Articles"] == "related_block"
    assert removed["Back to top button"] == "back_to_top"
    assert removed["Story by Reuters"] == "byline"


def test_subheading_stays_in_body(layout_rules):
    assert "Questions of smuggling" in layout_text(SEED_SHAPED, layout_rules).paragraphs


def test_related_block_closes_the_story(layout_rules):
    text = f"Title here\n\n{FILLER}\n\nRelated Stories\n\nA headline of another story\n\nAnother one"
    layout = layout_text(text, layout_rules)
    assert layout.paragraphs == [FILLER]
    assert [rule for rule, _ in layout.removed] == ["related_block"] * 3


@pytest.mark.parametrize("line, rule", [
    ("Share this article", "share"),
    ("Subscribe to our newsletter", "subscribe"),
    ("Sign up for our daily briefing newsletter", "newsletter"),
    ("We use cookies to improve your experience.", "cookie"),
    ("Advertisement", "advertisement"),
    ("Story continues below advertisement", "advertisement"),
    ("Skip to main content", "navigation"),
    ("Back to top button", "back_to_top"),
])
def test_furniture_lines_are_named(layout_rules, line, rule):
    verdict = classify_line(line, layout_rules.furniture)
    assert verdict is not None and verdict.rule == rule


@pytest.mark.parametrize("line", [
    "The minister will share details of the plan next week.",
    "Home prices rose 3 per cent in May.",
    "Advertisement revenue fell sharply, the company said.",
    "More than 300 people attended.",
])
def test_sentences_that_mention_furniture_words_stay(layout_rules, line):
    assert classify_line(line, layout_rules.furniture) is None


def test_prefix_label_must_be_glued_or_separated():
    rules = compile_rules([{"name": "carousel_label", "scope": "prefix", "pattern": "main slider"}])
    assert classify_line("Main SliderWorld", rules).remainder == "World"
    assert classify_line("Main Slider: Business", rules).remainder == "Business"
    assert classify_line("Main Sliders are back", rules) is None


def test_breadcrumb_trail_keeps_every_useful_crumb_as_written(layout_rules):
    layout = layout_text(f"Home > News > Business > Markets\n\nA headline\n\n{FILLER}", layout_rules)
    assert layout.breadcrumb == "Business > Markets"
    assert layout.title == "A headline"


def test_byline_and_credit_lines(layout_rules):
    text = f"A headline\n\nBy Jane Doe and Ravi Patel\n\n{FILLER}\n\nReporting by Jane Doe; Editing by Sam Lee"
    layout = layout_text(text, layout_rules)
    assert layout.bylines == ["Jane Doe and Ravi Patel", "Reporting by Jane Doe; Editing by Sam Lee"]
    assert layout.paragraphs == [FILLER]


def test_known_title_repeated_in_text_is_dropped(layout_rules):
    layout = layout_text(f"A headline\n\n{FILLER}", layout_rules, known_title="A headline")
    assert layout.title == "A headline" and layout.paragraphs == [FILLER]
    assert ("title_repeat", "A headline") in layout.removed


def test_hard_wrapped_paragraphs_are_rejoined():
    text = ("The first line of a hard wrapped paragraph goes on and on\n"
            "until it wraps at about seventy characters like old wire\ncopy does.\n\nNext paragraph.")
    assert split_paragraphs(text)[0].endswith("like old wire copy does.")
    assert split_paragraphs(text)[1] == "Next paragraph."
