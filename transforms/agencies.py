"""Recognise news agencies (wire services) by name, from `configs/agencies.yaml`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class AgencyMatcher:
    """Finds the first agency alias in a text and returns the agency's canonical name."""

    pattern: re.Pattern
    names: dict[str, str]

    def find(self, text: str) -> str | None:
        """Canonical name of the first agency named in ``text``, or None."""
        match = self.pattern.search(text)
        return self.names[match.group(0)] if match else None

    def is_agency(self, text: str) -> bool:
        """True when ``text`` is exactly one agency's name or alias."""
        return self.pattern.fullmatch(text.strip()) is not None


def build_agency_matcher(agencies: list[dict]) -> AgencyMatcher:
    """Compile agency entries (``{name, aliases}``) into one whole-word, longest-first regex."""
    names: dict[str, str] = {}
    for entry in agencies:
        for alias in [entry["name"], *entry.get("aliases", [])]:
            names.setdefault(alias, entry["name"])
    alternatives = sorted(names, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, alternatives)) + r")(?![\w-])")
    return AgencyMatcher(pattern=pattern, names=names)


def load_agency_matcher(path: str | Path) -> AgencyMatcher:
    """Read an agencies YAML file (see `configs/agencies.yaml`)."""
    with open(path, encoding="utf-8") as handle:
        return build_agency_matcher(yaml.safe_load(handle)["agencies"])
