"""Stable identities: canonical URLs, article ids and content hashes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|mc_cid|mc_eid|ocid|cmpid|ito|smid|src|ref|__twitter_impression)$", re.IGNORECASE
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str | None) -> str | None:
    """A normalised absolute http(s) URL, or None when ``url`` is not one.

    Scheme and host are lower-cased, ``www.``, default ports, fragments, tracking parameters and a
    trailing slash are dropped, and the remaining query parameters are sorted: the forms one article is
    linked under map to one string.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if port and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https" if scheme == "http" else scheme, host, path, query, ""))


def normalised_text(text: str) -> str:
    """Text folded for identity: NFKC, case-folded, punctuation-free, single-spaced."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_id(url: str | None, body: str) -> str:
    """``url:<hash>`` of the canonical URL when there is one, else ``body:<hash>`` of the folded body."""
    canonical = canonical_url(url)
    if canonical:
        return "url:" + sha256_hex(canonical)[:32]
    return "body:" + sha256_hex(normalised_text(body))[:32]
