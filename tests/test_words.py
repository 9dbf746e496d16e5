"""Word counts and line rejoining in every script, and the layout and article rules that rest on them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from multilingual import STORIES, plain_text

from transforms.article import Enricher, build_article
from transforms.layout import split_paragraphs
from transforms.records import Capture
from transforms.words import count_words, display_width, join_lines

CAPTURED = datetime(2025, 3, 10, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def enricher(run_config) -> Enricher:
    return Enricher.from_config(run_config)


def test_spaced_scripts_count_their_space_separated_words() -> None:
    assert count_words("Городские власти объявили во вторник") == 5
    assert count_words("시는 강을 가로지르는 오래된 다리의") == 5
    assert count_words("नगर निगम ने सोमवार को") == 5


def test_direction_marks_and_lone_punctuation_are_not_words() -> None:
    assert count_words("\u200fافتتحت وزارة الصحة \u200f — مستشفى") == 4
    assert count_words("קו רכבת חדש \u200e|\u200e ייפתח") == 4


def test_every_han_and_kana_character_is_a_word() -> None:
    assert count_words("市は十日、発表した。") == 8
    assert count_words("新开五条公交线路") == 8


def test_thai_run_counts_about_one_word_per_four_letters() -> None:
    # ก ร ุ ง เ ท พ ฯ: seven letters and a vowel sign below, the sign not counted.
    assert count_words("กรุงเทพฯ") == 2
    sentence = STORIES["th"][1][0]
    assert 20 <= count_words(sentence) <= 40  # the sentence holds 27 dictionary words


def test_wrapped_lines_rejoin_without_a_space_inside_unspaced_scripts() -> None:
    assert join_lines("備蓄を見直", "す。") == "備蓄を見直す。"
    assert join_lines("ริมแม่น้ำ", "เจ้าพระยา") == "ริมแม่น้ำเจ้าพระยา"
    assert join_lines("the old", "quay") == "the old quay"
    assert join_lines("市は十日、", "Reuters") == "市は十日、 Reuters"


def test_wide_characters_take_two_columns() -> None:
    assert display_width("東京 abc") == 8


def test_wrapped_japanese_block_is_rejoined_into_one_paragraph() -> None:
    lines = ["東京都は二日、新しい防災計画を発表した。計画では、大地震に備", "えて都内の避難所を増やす。"]
    assert display_width(lines[0]) == 60
    assert split_paragraphs("\n".join(lines)) == ["".join(lines)]


def test_japanese_story_of_two_long_lines_is_kept_not_taken_for_a_headline(enricher) -> None:
    text = ("東京都は二日、新しい防災計画を発表した。計画では、大地震に備えて都内の避難所を増やし、"
            "食料や水の備蓄を見直す。\n"
            "都の担当者は「住民一人ひとりが備えることが大切だ」と話した。\n")
    article, rejection, _ = build_article(Capture("mem://ja.txt", "text", text, captured_at=CAPTURED), enricher)
    assert rejection is None
    assert article["body"] == "\n\n".join(text.split())
    assert (article["language"], article["word_count"]) == ("ja", count_words(article["body"]))


@pytest.mark.parametrize("language", sorted(STORIES))
def test_story_body_without_a_headline_becomes_an_article_in_its_language(enricher, language) -> None:
    capture = Capture(f"mem://{language}.txt", "text", plain_text(language, headline=False), captured_at=CAPTURED)
    article, rejection, _ = build_article(capture, enricher)
    assert rejection is None, rejection
    assert article["language"] == language
    kept = [article["title"], *article["body"].split("\n\n")]  # a short first paragraph may be the headline
    assert all(paragraph in kept for paragraph in STORIES[language][1])
