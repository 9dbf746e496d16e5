"""The country a site's address names, which dates (the site's zone) and sections (its own country) use."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Country-code domains whose letters are not the country's ISO 3166-1 alpha-2 code.
_NOT_ISO = {"uk": "GB"}
# A web archive's replay address: /web/<capture time, up to 14 digits><replay flags>/<the archived address>.
_ARCHIVE_REPLAY = re.compile(r"/web/\d{4,14}[a-z_]*/(?:(?P<scheme>https?):/+)?(?P<rest>[^/].*)", re.IGNORECASE)
_ARCHIVE_HOSTS = frozenset({"web.archive.org", "wayback.archive.org"})
# Second-level labels under which a country-code domain registers sites (``bbc.co.uk``, ``uol.com.br``).
_REGISTRY_LABELS = frozenset({"co", "com", "org", "net", "gov", "gob", "edu", "ac", "or", "ne", "go"})


def archived_original(url: str | None) -> str | None:
    """The address a web-archive replay URL shows (``web.archive.org/web/2018…/https://site/a`` ->
    ``https://site/a``), else ``url``: the archive's host and capture time say nothing about the page's
    site, section or publication day."""
    try:
        parts = urlsplit(url) if url else None
    except ValueError:
        return url
    if parts is None or (parts.hostname or "").lower() not in _ARCHIVE_HOSTS:
        return url
    match = _ARCHIVE_REPLAY.fullmatch(url[url.find(parts.path):] if parts.path else "")
    return f"{match['scheme'] or 'http'}://{match['rest']}" if match else url


def host_prefix(url: str | None) -> list[str]:
    """The host's labels before the site's registered name (``sport.orf.at`` -> ["sport"],
    ``www.bbc.co.uk`` -> ["www"]), outermost first."""
    return _host_parts(url)[0]


def site_name(url: str | None) -> str | None:
    """The site's registered name without its suffix (``sport.orf.at`` -> "orf", ``www.bbc.co.uk`` -> "bbc")."""
    return _host_parts(url)[1]


def _host_parts(url: str | None) -> tuple[list[str], str | None]:
    try:
        labels = ((urlsplit(url).hostname or "") if url else "").rstrip(".").split(".")
    except ValueError:
        return [], None
    suffix = 2 if len(labels) > 2 and len(labels[-1]) == 2 and labels[-2] in _REGISTRY_LABELS else 1
    if len(labels) <= suffix:
        return [], None
    return labels[:-suffix - 1], labels[-suffix - 1]


def country_domain(url: str | None) -> str | None:
    """ISO alpha-2 code of the country-code top-level domain of ``url`` (``zeit.de`` -> DE), else None; a
    web-archive address names the country of the address it archives."""
    url = archived_original(url)
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return None
    suffix = host.rstrip(".").rsplit(".", 1)[-1]
    if len(suffix) != 2 or not suffix.isascii() or not suffix.isalpha():
        return None
    return _NOT_ISO.get(suffix, suffix.upper())
