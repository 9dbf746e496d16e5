"""Line-level furniture rules: which lines of a page are site chrome, and by which named rule.

Rules are data (`configs/boilerplate.yaml`); this module only compiles and applies them. Every verdict
names its rule, so the pipeline can count removals per rule and a user can see why a line went.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_INVISIBLE = re.compile(r"[\u00a0\u200b\u200c\u200d\u2060\ufeff\s]+")
_TRAILING_MARKS = " :.»›→|•·-–—"
_LEADING_MARKS = " -–—•·*►▶→»›"  # list bullets: "- Print article" is the same furniture as "Print article"


@dataclass(frozen=True)
class FurnitureRule:
    """One named pattern; ``scope`` is ``line``, ``prefix``, ``tail`` or ``inline`` (see the YAML's header)."""

    name: str
    scope: str
    regex: re.Pattern


@dataclass(frozen=True)
class Verdict:
    """A furniture match: the rule, its scope, and for prefix rules what is left of the line."""

    rule: str
    scope: str
    remainder: str = ""


def normalise_line(line: str) -> str:
    """Fold invisible and repeated white space and trailing separator marks, for rule matching."""
    return _INVISIBLE.sub(" ", line).strip().rstrip(_TRAILING_MARKS).strip()


def compile_rules(entries: list[dict]) -> list[FurnitureRule]:
    """Compile the ``furniture`` list of `configs/boilerplate.yaml`."""
    rules = []
    for entry in entries:
        scope = entry.get("scope", "line")
        if scope not in {"line", "prefix", "tail", "inline"}:
            raise ValueError(f"furniture rule {entry['name']!r}: unknown scope {scope!r}")
        rules.append(FurnitureRule(entry["name"], scope, re.compile(entry["pattern"], re.IGNORECASE)))
    return rules


def classify_line(line: str, rules: list[FurnitureRule]) -> Verdict | None:
    """The first rule that matches ``line``, or None when the line is not furniture.

    Line and tail rules must match the whole (normalised) line. A prefix rule matches a label at the
    start of the line; whatever follows it is returned as ``remainder`` for the caller to judge.
    """
    text = normalise_line(line).lstrip(_LEADING_MARKS)
    if not text:
        return None
    for rule in rules:
        if rule.scope == "inline":
            continue
        if rule.scope == "prefix":
            match = rule.regex.match(text)
            if match and _is_label_boundary(text, match.end()):
                return Verdict(rule.name, rule.scope, text[match.end():].strip(" :|-–—›»>"))
        elif rule.regex.fullmatch(text):
            return Verdict(rule.name, rule.scope)
    return None


def cut_inline(line: str, rules: list[FurnitureRule]) -> tuple[str, list[str]]:
    """``line`` without the spans inline rules match, and the name of the rule of each span cut."""
    cut: list[str] = []
    for rule in rules:
        if rule.scope != "inline":
            continue
        line, count = rule.regex.subn("", line)
        cut += [rule.name] * count
    return (" ".join(line.split()) if cut else line), cut


def _is_label_boundary(text: str, end: int) -> bool:
    """A prefix label ends at the line's end, before a separator, or where a glued word starts.

    ``Main SliderWorld`` is glued (lower-case ``r`` then upper-case ``W``); ``Featuredarticle`` is not a
    label followed by anything sensible.
    """
    if end >= len(text):
        return True
    following = text[end]
    if not following.isalnum():
        return True
    return following.isupper() and text[end - 1].islower()
