"""Article blocks the main-text extraction leaves out come back: a standfirst lead, a product list, a
fact check's rating; navigation, teasers and asides stay out.

Each page under ``tests/fixtures/page_blocks/`` is shaped like a real capture; each test first shows
that trafilatura alone loses the block, then that the article's body has it back, in place.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from transforms.article import Enricher, build_article
from transforms.html_page import ExtractionSettings, extract_html
from transforms.page_blocks import BlockRules
from transforms.records import Capture

PAGES = Path(__file__).parent / "fixtures" / "page_blocks"
LEAD = "The town council voted to spend two hundred thousand dollars repairing the town hall roof"
PRODUCTS = ["- Acme Book 14 laptop with 8GB RAM for 349 dollars", "- Zenit Air 13 laptop with 16GB RAM for 499 dollars",
            "- Orbit Slim 15 laptop with 8GB RAM for 429 dollars"]


@pytest.fixture(scope="module")
def enricher(run_config) -> Enricher:
    return Enricher.from_config(run_config)


def _page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def _body(page: str, url: str, enricher: Enricher) -> str:
    capture = Capture("file:///in/page.html", "html", page, url=url, captured_at=datetime(2024, 3, 2, tzinfo=UTC),
                      captured_at_source="file")
    article, rejection, _ = build_article(capture, enricher)
    assert rejection is None
    return article["body"]


def _extracted_alone(page: str, url: str) -> str:
    """The text trafilatura extracts with no block put back."""
    return extract_html(page, url, ExtractionSettings(kept_blocks=BlockRules())).text


def test_standfirst_lead_opens_the_body(enricher):
    page, url = _page("lead.html"), "https://valleycourier.example/news/council-roof"
    assert LEAD not in _extracted_alone(page, url)
    paragraphs = _body(page, url, enricher).split("\n\n")
    assert paragraphs[0].startswith(LEAD)
    assert paragraphs[1].startswith("The committee met on Tuesday morning")
    assert "Library hours cut" not in "\n".join(paragraphs)  # the aside's teasers stay out


def test_summaries_repeated_on_a_listing_page_are_no_lead(enricher):
    page, url = _page("lead.html"), "https://valleycourier.example/news/council-roof"
    teaser = ('<div class="teaser__summary"><p>Residents of the north side will get a new bus line in spring, the '
              'transit board said after a vote on a plan that took two years to draw up and to cost.</p></div>')
    two_summaries = page.replace("<p class=\"byline\">", f"{teaser}<p class=\"byline\">")
    assert "Residents of the north side" not in _body(two_summaries, url, enricher)
    assert LEAD not in _body(two_summaries, url, enricher)


def test_product_list_between_paragraphs_is_restored_in_place(enricher):
    page, url = _page("list.html"), "https://gadgetdesk.example/deals/budget-laptops"
    assert PRODUCTS[0].removeprefix("- ") not in _extracted_alone(page, url)
    paragraphs = _body(page, url, enricher).split("\n\n")
    start = paragraphs.index(PRODUCTS[0])
    assert paragraphs[start:start + 3] == PRODUCTS
    assert paragraphs[start - 1].startswith("Prices for small laptops have fallen")
    assert paragraphs[start + 3].startswith("All three machines ran our battery test")
    assert "- Best phones" not in paragraphs  # the sidebar's list stays out


def test_list_of_links_within_the_site_is_navigation_not_article(enricher):
    url = "https://gadgetdesk.example/deals/budget-laptops"
    page = _page("list.html").replace("https://shop.example/", "/reviews/")
    assert not any(line in _body(page, url, enricher) for line in PRODUCTS)


def test_fact_check_rating_from_claim_review_closes_the_body(enricher):
    page, url = _page("claim_review.html"), "https://checkdesk.example/fact-check/tap-water"
    assert "False" not in _extracted_alone(page, url)
    assert _body(page, url, enricher).endswith("\n\nRating: False")


def test_rating_printed_on_the_page_is_not_repeated(enricher):
    url = "https://checkdesk.example/fact-check/tap-water"
    page = _page("claim_review.html").replace('<div class="story">', '<div class="story"><p>Rating: False</p>')
    assert _body(page, url, enricher).count("Rating: False") == 1


def test_kinds_left_out_of_kept_blocks_are_not_restored(enricher):
    lead_only = replace(enricher, extraction=replace(
        enricher.extraction, kept_blocks=replace(enricher.extraction.kept_blocks, kinds=frozenset({"lead"}))))
    body = _body(_page("claim_review.html"), "https://checkdesk.example/fact-check/tap-water", lead_only)
    assert "Rating" not in body
    assert _body(_page("lead.html"), "https://valleycourier.example/news/council-roof", lead_only).startswith(LEAD)
