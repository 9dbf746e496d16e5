"""`page_metadata` and `categories` give what trafilatura's own metadata extraction gives for those fields.

The pages are the project's samples and fixtures, plus small pages that each take one of trafilatura's
fallbacks or clean-ups: no meta author, a one-word meta author, a dot-less lower-case or ``@`` site
name, no site name at all, an escaped entity in a meta title, a date only in the text, categories only
in links.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from transforms.page_metadata import categories, page_metadata

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PAGES = sorted([*ROOT.glob("samples/**/*.html"), *ROOT.glob("tests/fixtures/**/*.html")])
BODY = "<p>" + "The harbour board met on Tuesday to weigh the new berth plan for the river port. " * 6 + "</p>"


def _page(head: str, body: str = "") -> str:
    return f"<html><head>{head}</head><body><article>{body}{BODY}</article></body></html>"


FALLBACK_PAGES = {
    "no_meta_at_all": _page("<title>Berth plan approved</title>",
                            "<h1>Berth plan approved</h1><p class='byline'>By Ana Ruiz Soto</p>"),
    "one_word_meta_author": _page('<meta name="author" content="desk"><title>Port vote</title>',
                                  '<div class="author">Jon Peel Mar</div>'),
    "lower_case_site_name": _page('<meta property="og:site_name" content="riverpost"><title>Port vote</title>'),
    "handle_site_name": _page('<meta name="twitter:site" content="@riverpost"><title>Port vote</title>'),
    "escaped_title": _page('<meta property="og:title" content="Port vote &amp;amp; berth"><title>x</title>'),
    "date_only_in_text": _page("<title>Port vote</title>", "<p>Published 12 March 2024, 10:15</p>"),
    "categories_only_in_links": _page(
        "<title>Port vote</title>",
        '<div class="post-meta"><a href="https://river.example/category/harbours/">Harbours</a>'
        '<a href="https://river.example/category/local-news/">Local news</a></div>'),
}
FIELDS = ("title", "author", "url", "date", "sitename")


def _cases() -> list:
    pages = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8", errors="replace")
             for path in PROJECT_PAGES}
    # a file that parses to no HTML document never reaches metadata (extract_html returns None)
    cases = [pytest.param(html, None, id=name) for name, html in pages.items() if load_html(html) is not None]
    for name, html in FALLBACK_PAGES.items():
        cases += [pytest.param(html, None, id=name),
                  pytest.param(html, "https://www.river.example/2024/03/12/port-vote", id=f"{name}+url")]
    return cases


@pytest.mark.parametrize("html, url", _cases())
def test_page_metadata_equals_trafilaturas_for_the_fields_newsbeam_keeps(html, url):
    tree = load_html(html)
    expected = extract_metadata(load_html(html), url)
    found = page_metadata(tree, url)
    assert {f: getattr(found, f) for f in FIELDS} == {f: getattr(expected, f) for f in FIELDS}
    assert (found.categories or categories(tree)) == expected.categories


def test_the_fallback_pages_take_the_fallbacks_they_are_named_for():
    """Without this, a change to the pages could leave a fallback above unexercised."""
    found = {name: page_metadata(load_html(html), None) for name, html in FALLBACK_PAGES.items()}
    assert found["no_meta_at_all"].author == "Ana Ruiz Soto"
    assert found["one_word_meta_author"].author == "Jon Peel Mar"
    assert found["lower_case_site_name"].sitename == "Riverpost"
    assert found["handle_site_name"].sitename == "Riverpost"
    assert page_metadata(load_html(FALLBACK_PAGES["no_meta_at_all"]), "https://www.river.example/x").sitename \
        == "river.example"
    assert found["escaped_title"].title == "Port vote & berth"
    assert found["date_only_in_text"].date == "2024-03-12"
    assert not found["categories_only_in_links"].categories
    assert categories(load_html(FALLBACK_PAGES["categories_only_in_links"])) == ["Harbours", "Local news"]
