"""The country a site's address names, which dates (the site's zone) and sections (its own country) use."""

from __future__ import annotations

from urllib.parse import urlsplit

# Country-code domains whose letters are not the country's ISO 3166-1 alpha-2 code.
_NOT_ISO = {"uk": "GB"}


def country_domain(url: str | None) -> str | None:
    """ISO alpha-2 code of the country-code top-level domain of ``url`` (``zeit.de`` -> DE), else None."""
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return None
    suffix = host.rstrip(".").rsplit(".", 1)[-1]
    if len(suffix) != 2 or not suffix.isascii() or not suffix.isalpha():
        return None
    return _NOT_ISO.get(suffix, suffix.upper())
