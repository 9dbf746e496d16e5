"""langdetect_rs is adopted only because it answers exactly as langdetect does: hold it to that."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import langdetect
import langdetect_rs
import pytest

from transforms.language import LanguageSettings, detect_language, detector_module, seed_detector

REPO = Path(__file__).resolve().parent.parent
SENTENCES = REPO / "tests" / "fixtures" / "eval" / "sentences_tiny.jsonl"
TEXT_FILES = [REPO / "tests" / "fixtures" / "seed_shaped.txt",
              *sorted((REPO / "samples" / "captures").glob("*.txt"))]


def _texts() -> list[str]:
    sentences = [json.loads(line)["text"] for line in SENTENCES.read_text(encoding="utf-8").splitlines()]
    documents = [path.read_text(encoding="utf-8") for path in TEXT_FILES]
    # Whole texts, and cut short where langdetect's random walk spreads its probability over several
    # languages; mixed scripts; texts with no letters (langdetect raises on those).
    cut = [text[:n] for text in sentences + documents for n in (8, 20, 45)]
    mixed = ["Der Zug nach Hamburg. The mayor opened the bridge. Война и мир — роман Льва Толстого.",
             "東京で会議が開かれた。The talks ended on Monday.", "12345 67890", "", "   \n  "]
    return sentences + documents + cut + mixed


def _answers(module) -> list:
    module.DetectorFactory.seed = 0
    answers = []
    for text in _texts():
        try:
            answers.append([(found.lang, found.prob) for found in module.detect_langs(text)])
        except module.LangDetectException as error:
            answers.append(("error", str(error)))
    return answers


def test_langdetect_rs_gives_langdetect_probabilities_bit_for_bit():
    original, port = _answers(langdetect), _answers(langdetect_rs)
    assert {lang for answer in original if answer[0] != "error" for lang, _ in answer} >= {"de", "en", "es"}
    assert any(answer[0] == "error" for answer in original)
    assert any(len(answer) > 1 for answer in original if answer[0] != "error")  # spread answers compared too
    assert port == original


def test_detect_language_is_the_same_on_either_implementation(run_config):
    fast = LanguageSettings(**run_config["language"])
    slow = replace(fast, implementations=("langdetect",))
    assert detector_module(fast.implementations) is langdetect_rs
    assert detector_module(slow.implementations) is langdetect
    seed_detector(fast)
    seed_detector(slow)
    results = [(detect_language(text, fast), detect_language(text, slow)) for text in _texts()]
    assert {ours for ours, _ in results} >= {("und", 0.0), ("de", 1.0)}
    assert [ours for ours, _ in results] == [theirs for _, theirs in results]


def test_the_first_installed_implementation_is_used():
    assert detector_module(("no_such_detector", "langdetect")) is langdetect
    with pytest.raises(ImportError, match="tried no_such_detector, nor_this"):
        detector_module(("no_such_detector", "nor_this"))
