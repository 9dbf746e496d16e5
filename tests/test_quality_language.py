"""The language eval (items, metrics) and the short-text rule it measures."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from quality.language import bucket_metrics, build_items, read_sentences, score
from quality.report import CorpusError
from transforms.language import LanguageSettings, detect_language, script_of, seed_detector, too_short

FIXTURE = Path(__file__).parent / "fixtures" / "eval" / "sentences_tiny.jsonl"


@pytest.fixture(scope="module")
def settings(run_config) -> LanguageSettings:
    configured = LanguageSettings(**run_config["language"])
    seed_detector(configured)
    return configured


def test_metrics_by_hand():
    results = [("en", "en"), ("en", "und"), ("de", "de"), ("de", "en")]
    assert bucket_metrics(results) == {"mean": 0.5, "en": 0.5, "precision": 0.6667, "coverage": 0.75}
    assert bucket_metrics([("de", "und")]) == {"mean": 0.0, "coverage": 0.0}


def test_items_cover_every_length():
    rows = read_sentences(FIXTURE)
    items = list(build_items([row for row in rows if row["lang"] == "de"] + [rows[-3]]))
    counts = Counter(item.bucket for item in items)
    assert counts == {"words": 9, "word pairs": 9, "sentences 50-99": 9, "articles": 1}
    article = next(item for item in items if item.bucket == "articles")
    assert article.language == "de" and article.text.count(".") == 8
    assert next(item for item in items if item.bucket == "word pairs").text == "Montag die"


@pytest.mark.parametrize("content", [
    '{"id": "en-1", "lang": "en", "text": "fine"}\nnot json\n',
    '{"id": "en-1", "text": "no language"}\n',
    '["a", "list"]\n',
    "\n",
])
def test_malformed_corpus_raises(tmp_path, content):
    (tmp_path / "sentences.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError):
        score(tmp_path, None, lambda done, total: None)


def test_missing_corpus_raises(tmp_path):
    with pytest.raises(CorpusError):
        score(tmp_path, None, lambda done, total: None)


@pytest.mark.parametrize("text", ["Hi there", "Bridge opens", "Die Brücke ist offen"])
def test_short_latin_texts_are_und(settings, text):
    assert detect_language(text, settings) == ("und", 0.0)


def test_a_sentence_is_long_enough(settings):
    assert detect_language("The mayor opened the new bridge across the river on Monday.", settings)[0] == "en"


def test_a_script_one_language_writes_needs_only_a_word(settings):
    assert script_of("Καλημέρα") == "GREEK" and script_of("12 ...") is None
    assert not too_short("Καλημέρα", settings)
    assert detect_language("Καλημέρα", settings)[0] == "el"
    assert too_short("Привет", settings)  # Cyrillic is shared by Russian, Ukrainian, Bulgarian, ...


def test_score_on_a_tiny_corpus(tmp_path):
    shutil.copy(FIXTURE, tmp_path / "sentences.jsonl")
    seen = []
    result = score(tmp_path, None, lambda done, total: seen.append((done, total)))
    rows = {s.system: s for s in result.scores}
    assert result.details["languages_skipped"] == ["xx"]
    assert result.details["languages_scored"] == ["de", "en"]
    assert rows["newsbeam, articles"].items == 1 and rows["newsbeam, articles"].metrics["mean"] == 1.0
    # The bare word "Hi" and the cut words: langdetect always answers, newsbeam says und.
    assert rows["langdetect alone, words"].metrics["coverage"] == 1.0
    assert rows["newsbeam, words"].metrics["coverage"] < 1.0
    assert rows["newsbeam, all sentences"].items == 10
    assert seen[-1][0] == seen[-1][1]
    assert any(s.published for s in result.scores)
