"""Language identification with langdetect, made deterministic and honest about short texts."""

from __future__ import annotations

from dataclasses import dataclass

from langdetect import DetectorFactory, LangDetectException, detect_langs

UNDETERMINED = "und"
# langdetect reports Chinese by script; the column holds ISO 639-1 codes.
_TO_ISO639_1 = {"zh-cn": "zh", "zh-tw": "zh"}


@dataclass(frozen=True)
class LanguageSettings:
    """``min_letters``: below it the text is ``und``; ``max_chars``: how much of a long text is read."""

    min_letters: int = 40
    max_chars: int = 10000
    seed: int = 0


def seed_detector(seed: int) -> None:
    """Fix langdetect's random seed so reruns classify identically (langdetect samples n-grams)."""
    DetectorFactory.seed = seed


def detect_language(text: str, settings: LanguageSettings) -> tuple[str, float]:
    """``(iso639_1, probability)`` of the most likely language; ``("und", 0.0)`` if it cannot tell."""
    sample = text[: settings.max_chars]
    if sum(ch.isalpha() for ch in sample) < settings.min_letters:
        return UNDETERMINED, 0.0
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return UNDETERMINED, 0.0
    return _TO_ISO639_1.get(best.lang, best.lang), round(float(best.prob), 4)
