"""trafilatura's page metadata, without the searches whose results newsbeam discards.

``trafilatura.bare_extraction(with_metadata=True)`` runs ``trafilatura.metadata.extract_metadata``, which
also searches every page for tags and a licence, and for categories even when the page's own metadata
named its section. newsbeam keeps none of these, and its API cannot skip them. So newsbeam extracts the
main text without metadata and takes the fields it keeps from here: the same trafilatura functions, in
the same order, with the same clean-up. Categories are searched only when a caller asks (`categories`).
`tests/test_page_metadata.py` holds the results equal to ``extract_metadata``'s; trafilatura is pinned
in pyproject.toml, so an upgrade that changes them fails that test.
"""

from __future__ import annotations

import logging

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura import metadata as trafilatura_metadata
from trafilatura.settings import DEFAULT_CONFIG, Document, set_date_params

LOG = logging.getLogger(__name__)


def page_metadata(tree: HtmlElement, url: str | None) -> Document:
    """Title, author, URL, date, site name (and categories the page declares) of a parsed page.

    Reads ``tree`` without changing it. ``url`` is the capture's URL, if known.
    """
    found = trafilatura_metadata.examine_meta(tree)
    if found.author and " " not in found.author:  # trafilatura drops one-word meta authors
        found.author = None
    try:
        found = trafilatura_metadata.extract_meta_json(tree, found)
    except Exception as error:  # as trafilatura does: its JSON-LD reader's bugs cost only that source
        LOG.warning("trafilatura's JSON-LD metadata failed: %s", error)
    found.title = found.title or trafilatura_metadata.extract_title(tree)
    found.author = found.author or trafilatura_metadata.extract_author(tree)
    found.url = found.url or trafilatura_metadata.extract_url(tree, url)
    found.date = find_date(tree, **_date_params(found.url))
    found.sitename = _site_name(found.sitename or trafilatura_metadata.extract_sitename(tree), found.url)
    found.clean_and_trim()
    return found


def categories(tree: HtmlElement) -> list[str]:
    """The categories trafilatura finds in a page's links and head, for a page that declares none."""
    return trafilatura_metadata.extract_catstags("category", tree)


def _date_params(url: str | None) -> dict:
    """htmldate's settings as trafilatura passes them: its config's search depth, and the page's URL."""
    params = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
    params["url"] = url
    return params


def _site_name(name: str | None, url: str | None) -> str | None:
    """trafilatura's site name: without a leading ``@``, a dot-less lower-case name title-cased, else the
    URL's host."""
    if name:
        name = name.lstrip("@")
        if name and "." not in name and not name[0].isupper():
            name = name.title()
        return name
    match = trafilatura_metadata.META_URL.match(url) if url else None
    return match[1] if match else None
