"""The headline of a page: its title without the site's name, section prefixes and publication labels.

``<title>`` and the social-media titles wrap the headline in the site's name ("Headline | Site",
"Site - Headline") and labels ("Opinion | Headline", "Headline | Editorial"). The site's name goes to
``site_name``; a label counts when it is a listed section or one of the configured title labels. A
candidate that is nothing but the site's name is no headline: the next candidate is tried.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

# Separators between a headline and the site's name in <title> ("Headline - Site", "Site | Headline").
_TITLE_SEPARATOR = re.compile(r"\s+[-|–—·›»:]{1,2}\s+")
_LABEL_MAX_WORDS = 3


def title_without_site(title: str | None, site_name: str | None, url: str | None,
                       is_label: Callable[[str], bool] | None = None) -> str | None:
    """The headline without the site's name (and, given ``is_label``, labels) that ``<title>`` adds.

    A part counts as the site's name when it is the page's site name or spells its host name
    ("Helge.at", "rete-mirabile.net"), even when the name itself holds a separator ("Site - Tagline").
    A title that is nothing but the site's name stays as it is; the result is always part of ``title``.
    """
    if not title:
        return title
    parts = _TITLE_SEPARATOR.split(title.strip())
    names = _site_names(site_name, url)
    parts = _strip_ends(parts, lambda chunk: _squash("".join(chunk)) in names)
    if is_label:
        parts = _strip_ends(parts, lambda chunk: len(chunk) == 1 and len(chunk[0].split()) <= _LABEL_MAX_WORDS
                            and is_label(chunk[0]))
    return title[title.index(parts[0]):title.rindex(parts[-1]) + len(parts[-1])]


def is_site_name(text: str | None, site_name: str | None, url: str | None) -> bool:
    """True when ``text`` is just the site's name (or its host name)."""
    return bool(text) and _squash(text) in _site_names(site_name, url)


def choose_headline(candidates: Iterable[str | None], site_name: str | None, url: str | None,
                    is_label: Callable[[str], bool]) -> str | None:
    """The first candidate that, cleaned, is more than the site's name; None when none is."""
    for candidate in candidates:
        cleaned = title_without_site(" ".join(candidate.split()) if candidate else None, site_name, url, is_label)
        if cleaned and not is_site_name(cleaned, site_name, url):
            return cleaned
    return None


def _strip_ends(parts: list[str], matches: Callable[[list[str]], bool]) -> list[str]:
    """Drop leading and trailing runs of parts for which ``matches`` holds, keeping at least one part."""
    for size in range(len(parts) - 1, 0, -1):
        if matches(parts[-size:]):
            parts = parts[:-size]
            break
    for size in range(len(parts) - 1, 0, -1):
        if matches(parts[:size]):
            parts = parts[size:]
            break
    return parts


def _site_names(site_name: str | None, url: str | None) -> set[str]:
    names = {_squash(site_name)} if site_name else set()
    host = (urlsplit(url).hostname or "") if url else ""
    names |= {_squash(host.removeprefix("www.")), _squash(host.removeprefix("www.").rsplit(".", 1)[0])}
    return names - {""}


def _squash(text: str | None) -> str:
    """Lower-case letters and digits only, so "Helge.at", "helge.at" and "HELGE AT" compare equal."""
    return "".join(ch for ch in (text or "").casefold() if ch.isalnum())
