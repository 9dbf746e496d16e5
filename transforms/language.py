"""Language identification with langdetect, made deterministic and honest about short texts."""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from langdetect import DetectorFactory, LangDetectException, detect_langs
from langdetect.detector_factory import init_factory

UNDETERMINED = "und"
# langdetect reports Chinese by script; the column holds ISO 639-1 codes.
_TO_ISO639_1 = {"zh-cn": "zh", "zh-tw": "zh"}


@dataclass(frozen=True)
class LanguageSettings:
    """``min_letters``: below it the text is ``und``, unless its script has its own threshold in
    ``min_letters_by_script`` (a script only one language writes needs a letter, Latin needs a sentence);
    ``max_chars``: how much of a long text is read."""

    min_letters: int = 40
    min_letters_by_script: dict[str, int] = field(default_factory=dict)
    max_chars: int = 10000
    seed: int = 0


def seed_detector(seed: int) -> None:
    """Fix langdetect's random seed so reruns classify identically (langdetect samples n-grams).

    Also loads langdetect's language profiles now (they load lazily on the first detection, about a
    second), so a worker pays for them in ``setup`` rather than on its first article.
    """
    DetectorFactory.seed = seed
    init_factory()


def script_of(text: str) -> str | None:
    """The script most of the letters are in, as Unicode names it ("LATIN", "CYRILLIC", "CJK", ...)."""
    scripts = Counter(unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha())
    return scripts.most_common(1)[0][0] if scripts else None


def too_short(text: str, settings: LanguageSettings) -> bool:
    """True when ``text`` has fewer letters than langdetect needs to be right in its script."""
    letters = sum(ch.isalpha() for ch in text)
    if letters >= max(settings.min_letters, *settings.min_letters_by_script.values(), 0):
        return False
    return letters < settings.min_letters_by_script.get(script_of(text), settings.min_letters)


def detect_language(text: str, settings: LanguageSettings) -> tuple[str, float]:
    """``(iso639_1, probability)`` of the most likely language; ``("und", 0.0)`` if it cannot tell."""
    sample = text[: settings.max_chars]
    if too_short(sample, settings):
        return UNDETERMINED, 0.0
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return UNDETERMINED, 0.0
    return _TO_ISO639_1.get(best.lang, best.lang), round(float(best.prob), 4)
