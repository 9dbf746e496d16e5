"""Language identification with langdetect, made deterministic and honest about short texts.

The detector is the first importable module of ``LanguageSettings.implementations``: by default
``langdetect_rs`` (a Rust port of langdetect that returns the same probabilities bit for bit, about
50 times faster; `tests/test_language_implementations.py` holds it to that), then ``langdetect``.
"""

from __future__ import annotations

import importlib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

UNDETERMINED = "und"
# langdetect reports Chinese by script; the column holds ISO 639-1 codes.
_TO_ISO639_1 = {"zh-cn": "zh", "zh-tw": "zh"}
_COUNT_STEP = 256


@dataclass(frozen=True)
class LanguageSettings:
    """``min_letters``: below it the text is ``und``, unless its script has its own threshold in
    ``min_letters_by_script`` (a script only one language writes needs a letter, Latin needs a sentence);
    ``max_chars``: how much of a long text is read; ``implementations``: langdetect-compatible modules,
    the first importable one is used."""

    min_letters: int = 40
    min_letters_by_script: dict[str, int] = field(default_factory=dict)
    max_chars: int = 10000
    seed: int = 0
    implementations: tuple[str, ...] = ("langdetect_rs", "langdetect")

    def __post_init__(self) -> None:
        object.__setattr__(self, "implementations", tuple(self.implementations))


@cache
def detector_module(implementations: tuple[str, ...]) -> ModuleType:
    """The first of ``implementations`` that imports (each offers langdetect's ``detect_langs`` API)."""
    for name in implementations:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"no language detector installed: tried {', '.join(implementations)}")


def seed_detector(settings: LanguageSettings) -> None:
    """Fix the detector's random seed so reruns classify identically (langdetect samples n-grams).

    Also loads the language profiles now (they load lazily on the first detection, about a second
    in langdetect), so a worker pays for them in ``setup`` rather than on its first article.
    """
    module = detector_module(settings.implementations)
    module.DetectorFactory.seed = settings.seed
    module.detector_factory.init_factory()


def script_of(text: str) -> str | None:
    """The script most of the letters are in, as Unicode names it ("LATIN", "CYRILLIC", "CJK", ...)."""
    scripts = Counter(unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha())
    return scripts.most_common(1)[0][0] if scripts else None


def too_short(text: str, settings: LanguageSettings) -> bool:
    """True when ``text`` has fewer letters than langdetect needs to be right in its script."""
    enough = max(settings.min_letters, *settings.min_letters_by_script.values(), 0)
    letters = 0
    for start in range(0, len(text), _COUNT_STEP):  # stop counting once no threshold can apply
        letters += sum(ch.isalpha() for ch in text[start:start + _COUNT_STEP])
        if letters >= enough:
            return False
    return letters < settings.min_letters_by_script.get(script_of(text), settings.min_letters)


def detect_language(text: str, settings: LanguageSettings) -> tuple[str, float]:
    """``(iso639_1, probability)`` of the most likely language; ``("und", 0.0)`` if it cannot tell."""
    sample = text[: settings.max_chars]
    if too_short(sample, settings):
        return UNDETERMINED, 0.0
    module = detector_module(settings.implementations)
    try:
        best = module.detect_langs(sample)[0]
    except module.LangDetectException:
        return UNDETERMINED, 0.0
    return _TO_ISO639_1.get(best.lang, best.lang), round(float(best.prob), 4)
