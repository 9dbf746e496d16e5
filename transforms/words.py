"""Words and widths of text in any script, for the rules that measure lines and bodies.

``str.split`` counts words only where a script puts spaces between them. Chinese and Japanese do not
(a paragraph would be one word), nor do Thai, Lao, Khmer and Myanmar; Arabic and Hebrew do, but may carry
direction marks that are not words. Every length rule of the layout step and the ``no_article_text``
rule count with :func:`count_words`, so a story in any script passes or fails them on its words.
"""

from __future__ import annotations

import re
import unicodedata

# Han ideographs (with extension A and compatibility forms) and kana, full and half width: one word each,
# as word processors count them.
_IDEOGRAPHIC = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
# Thai, Lao, Myanmar, Khmer: words run together and only a dictionary finds their boundaries.
_RUN_TOGETHER = "\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"
# Words of those scripts average about four letters (vowel signs and tone marks, which combine with a
# letter, left out); a run of their letters counts one word per this many letters, at least one.
LETTERS_PER_RUN_TOGETHER_WORD = 4

_IDEOGRAPH = re.compile(f"[{_IDEOGRAPHIC}]")
_RUN = re.compile(f"[{_RUN_TOGETHER}]+")
# Characters that end a word in those scripts: their own letters, plus CJK punctuation and spaces.
_UNSPACED = re.compile(f"[\u3000-\u303f{_IDEOGRAPHIC}]|[{_RUN_TOGETHER}]+")


def count_words(text: str) -> int:
    """Words of ``text`` in any script: space-separated words that hold a letter or a digit, plus one per
    Han or kana character, plus the estimated words of each Thai, Lao, Khmer or Myanmar run."""
    spaced = sum(1 for token in _UNSPACED.sub(" ", text).split() if any(ch.isalnum() for ch in token))
    run_together = sum(_run_words(run) for run in _RUN.findall(text))
    return spaced + len(_IDEOGRAPH.findall(text)) + run_together


def _run_words(run: str) -> int:
    letters = sum(1 for ch in run if not unicodedata.combining(ch) and unicodedata.category(ch) == "Lo")
    return max(1, round(letters / LETTERS_PER_RUN_TOGETHER_WORD)) if letters else 0


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal or a fixed-width file: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def join_lines(first: str, second: str) -> str:
    """Two lines of one wrapped paragraph rejoined: with a space, except between two characters of a script
    written without spaces (rejoining Japanese with a space would put one inside a word)."""
    if first and second and _UNSPACED.match(first[-1]) and _UNSPACED.match(second[0]):
        return first + second
    return f"{first} {second}"
