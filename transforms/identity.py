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


def identifying_url(canonical: str | None, page_url: str | None) -> str | None:
    """The URL that names the article: the page's canonical link when it is plausible, else the page's URL.

    A CMS template that puts the site's homepage or a section front in ``<link rel="canonical">`` on every
    story would make distinct stories one article. A canonical link is not trusted when it is a front
    (``is_front``) or, on the page's own host, a folder above the page's URL (the section the story sits
    in). No front identifies an article, not even as the page's own URL: captures of a front are
    different bodies at one address, so they are told apart by their bodies.
    """
    canonical, page = canonical_url(canonical), canonical_url(page_url)
    if canonical and not is_front(canonical) and not _above(canonical, page):
        return canonical
    return page if page and not is_front(page) else None


def is_front(url: str) -> bool:
    """True for a site root and for front-like paths: one or two segments of letters only, no query.

    Article addresses carry an id, a date or a hyphenated slug (``/2024/03/ferry-fares``, ``/a/123``);
    ``/``, ``/world`` and ``/news/politics`` are pages that list articles.
    """
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    return not parts.query and len(segments) <= 2 and all(segment.isalpha() for segment in segments)


def _above(canonical: str, page: str | None) -> bool:
    """``canonical`` is a folder of ``page``'s path on the same host (and not the page itself)."""
    if page is None:
        return False
    top, below = urlsplit(canonical), urlsplit(page)
    folder = top.path.rstrip("/") + "/"
    return top.netloc == below.netloc and below.path.startswith(folder) and below.path != top.path


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
