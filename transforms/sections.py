"""Section labels to safe, normalised slugs, and the choice between competing section sources."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def fold(label: str) -> str:
    """Lower-case, accent-free, single-spaced form of a label, used as the lookup key."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_text.lower().replace("&", " & ").split())


def slugify(label: str, max_length: int = 48, fallback: str = "unknown") -> str:
    """A folder-safe slug: only ``[a-z0-9-]``, no leading/trailing dash, never empty, never ``.``/``..``."""
    slug = _NON_SLUG.sub("-", fold(label)).strip("-")[:max_length].strip("-")
    return slug or fallback


@dataclass(frozen=True)
class SectionIndex:
    """Known section labels, folded, mapped to their slugs (from `configs/sections.yaml`)."""

    aliases: dict[str, str]
    order: tuple[str, ...]
    max_slug_length: int = 48
    fallback: str = "unknown"

    @classmethod
    def from_config(cls, cfg: dict) -> SectionIndex:
        aliases: dict[str, str] = {}
        for slug, labels in cfg["sections"].items():
            for label in [slug, *labels]:
                aliases[fold(label)] = slug
        return cls(aliases, tuple(cfg["order"]), cfg.get("max_slug_length", 48), cfg.get("fallback", "unknown"))

    def known(self, label: str) -> str | None:
        """The slug of a listed label, else None."""
        return self.aliases.get(fold(label))

    def normalise(self, label: str) -> str | None:
        """The slug for any label: the listed one, else the label's own slug; None for blank labels."""
        if not label or not fold(label):
            return None
        slug = self.known(label) or slugify(label, self.max_slug_length, "")
        return slug or None


def section_from_url(url: str | None, index: SectionIndex) -> str | None:
    """The first path segment of ``url`` that is a listed section label (``/world/asia/x`` -> world)."""
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for segment in path.split("/")[:-1]:
        slug = index.known(segment.replace("-", " ").replace("_", " "))
        if slug:
            return slug
    return None


def choose_section(candidates: dict[str, str | None], index: SectionIndex) -> tuple[str, str]:
    """Pick ``(slug, source)`` from raw labels keyed by source, in the configured order.

    Sources not in ``index.order`` are ignored; with no usable label the result is
    ``(fallback, "none")``.
    """
    for source in index.order:
        label = candidates.get(source)
        slug = index.normalise(label) if label else None
        if slug:
            return slug, source
    return index.fallback, "none"
