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


# --- one test per kind of boilerplate inside the body ------------------------------------------------

def _body_and_rules(layout_rules, *lines: str, title: str | None = None) -> tuple[list[str], list[str]]:
    """Body paragraphs and the removal rules of a story whose paragraphs are FILLER, ``lines``, FILLER."""
    layout = layout_text("\n\n".join([FILLER, *lines, FILLER]), layout_rules, known_title=title)
    return layout.paragraphs, [rule for rule, _ in layout.removed]


def test_newsletter_widget_states_leave_the_body(layout_rules):
    body, removed = _body_and_rules(layout_rules, "Thanks for signing up!",
                                    "There was an error processing your subscription.")
    assert body == [FILLER, FILLER] and removed == ["newsletter", "newsletter"]


def test_share_prompt_leaves_the_body(layout_rules):
    body, removed = _body_and_rules(layout_rules, "Like this story? Share it with a friend!")
    assert body == [FILLER, FILLER] and removed == ["share"]


def test_capitals_call_to_action_leaves_the_body_but_a_capital_quote_stays(layout_rules):
    shout = "WE WILL NOT BE MOVED, THE CROWD CHANTED AS THE VOTE WAS READ OUT"
    body, removed = _body_and_rules(layout_rules, "CLICK HERE TO GET THE HARBOUR NEWS APP", shout)
    assert body == [FILLER, shout, FILLER] and removed == ["call_to_action"]


def test_bracketed_label_link_line_leaves_the_body(layout_rules):
    body, removed = _body_and_rules(layout_rules, "[WATCH] Ferry crews rehearse the night crossing")
    assert body == [FILLER, FILLER] and removed == ["call_to_action"]


def test_shortcode_is_cut_out_of_its_paragraph(layout_rules):
    line = 'The new timetable starts in May. [button link="https://ferry.example/t" color="blue"]See it[/button]'
    body, removed = _body_and_rules(layout_rules, line)
    assert body[1] == "The new timetable starts in May. See it" and removed == ["shortcode", "shortcode"]


def test_editors_brackets_in_a_quote_are_not_shortcodes(layout_rules):
    line = '"[We] will keep [our] crossings open," the operator said.'
    assert _body_and_rules(layout_rules, line) == ([FILLER, line, FILLER], [])


def test_click_to_tweet_label_is_cut_from_the_quote(layout_rules):
    body, removed = _body_and_rules(layout_rules, "Ferries are the harbour's buses.Click To Tweet")
    assert body[1] == "Ferries are the harbour's buses." and removed == ["click_to_tweet"]


def test_affiliate_disclosure_leaves_the_body(layout_rules):
    line = "This post contains affiliate links, and we may earn a commission if you buy through them."
    assert _body_and_rules(layout_rules, line) == ([FILLER, FILLER], ["affiliate_disclosure"])


def test_reworded_headline_as_first_paragraph_leaves_the_body(layout_rules):
    title = "Harbour board backs late ferries after night shift workers complain"
    h1 = "Harbour board backs late ferries for night shift workers after months of complaints from crews"
    layout = layout_text(f"{h1}\n\n{FILLER}", layout_rules, known_title=title)
    assert layout.paragraphs == [FILLER] and ("title_repeat", h1) in layout.removed


def test_first_sentence_that_repeats_the_headline_words_stays(layout_rules):
    title = "Harbour board backs late ferries"
    lead = "The harbour board backs late ferries, it said on Monday, after workers on the night shift complained."
    assert layout_text(f"{lead}\n\n{FILLER}", layout_rules, known_title=title).paragraphs == [lead, FILLER]


def test_time_and_byline_header_line_becomes_the_byline(layout_rules):
    layout = layout_text(f"A headline\n\n5:45 AM PST 11/19/2019 by Jane Doe\n\n{FILLER}", layout_rules)
    assert layout.bylines == ["Jane Doe"] and layout.paragraphs == [FILLER]


def test_closing_list_of_headline_links_leaves_the_body(layout_rules):
    links = ["- 15 Amazing Pictures Of Harbour Lights", "- Ferry Crews Face Longer Night Shifts",
             "- The 11 Biggest Questions About Tides"]
    layout = layout_text("\n\n".join([FILLER, *links, "Originally published on Harbour News."]), layout_rules)
    assert layout.paragraphs == [FILLER, "Originally published on Harbour News."]
    assert [rule for rule, _ in layout.removed] == ["link_list"] * 3


def test_list_inside_the_story_stays(layout_rules):
    items = ["- Harbour Line Express Ferry", "- Night Owl Water Taxi", "- Island Hopper Weekend Service"]
    text = "\n\n".join([FILLER, *items, FILLER, FILLER, FILLER])
    assert layout_text(text, layout_rules).paragraphs == [FILLER, *items, FILLER, FILLER, FILLER]


def test_standfirst_under_the_headline_stays(layout_rules):
    standfirst = "Crews say the change will cut waiting times at night"
    layout = layout_text(f"A headline\n\n{standfirst}\n\n{FILLER}", layout_rules)
    assert layout.paragraphs == [standfirst, FILLER]


def test_header_line_with_a_byline_shape_but_no_name_stays_text(layout_rules):
    line = "Reported by the port authority"
    layout = layout_text(f"A headline\n\n{line}\n\n{FILLER}", layout_rules)
    assert layout.bylines == [] and line in layout.paragraphs
