"""``date`` task: ``published_at``, ``title`` and ``byline`` against trafilatura-eval's metadata gold.

Each field is scored on the pages with a gold value: a prediction is right when it matches exactly
(the publication *day* for dates; title and author after folding case and white space, authors as
``; ``-joined names). The gold author is often printed with its lead word ("Von A und B"), so authors
are also scored name by name: a page is right when every name found occurs in its gold author text.
Precision = right / predicted, recall = right / gold, F1 from the two, so
saying nothing costs recall and guessing wrong costs precision. htmldate alone is recomputed on the
same pages as the date baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from quality.articles import html_article
from quality.baselines import htmldate_day, version
from quality.corpora import SegmentPage, in_split, read_segment_pages
from quality.report import Score, TaskResult, f1, published, ratio


@dataclass
class FieldTally:
    """Right, predicted and gold counts for one field."""

    right: int = 0
    predicted: int = 0
    gold: int = 0

    def add(self, gold: str, predicted: str | None) -> None:
        self.gold += 1
        self.predicted += predicted is not None
        self.right += predicted is not None and fold(predicted) == fold(gold)

    def add_names(self, gold: str, names: list[str]) -> None:
        """Right when every name occurs in the gold text; no names is no prediction."""
        self.gold += 1
        self.predicted += bool(names)
        self.right += bool(names) and all(fold(name) in fold(gold) for name in names)

    def scores(self) -> dict[str, float]:
        precision, recall = ratio(self.right, self.predicted), ratio(self.right, self.gold)
        return {"precision": precision, "recall": recall, "f1": f1(precision, recall)}


def fold(value: str) -> str:
    return " ".join(value.split()).casefold()


def published_day(article: dict | None) -> str | None:
    """``YYYY-MM-DD`` of the article's ``published_at``, None when the pipeline found no date."""
    value = article.get("published_at") if article else None
    return value.date().isoformat() if value else None


def score(corpus: Path, limit: int | None, progress: Callable[[int, int], None],
          config: Path | None = None, split: str = "all") -> TaskResult:
    pages = [p for p in read_segment_pages(corpus) if (p.date or p.title or p.author) and in_split(p.id, split)][:limit]
    tallies = {name: FieldTally() for name in ("date", "htmldate", "title", "byline", "authors", "names")}
    for done, page in enumerate(pages, start=1):
        _tally_page(page, html_article(page.html_path, page.url, config), tallies)
        progress(done, len(pages))
    result = TaskResult("date", f"{corpus.name} ({split})", "exact match where gold exists (date: same day); "
                        "P = right/predicted, R = right/gold")
    result.scores += [
        Score("newsbeam published_at", tallies["date"].scores(), tallies["date"].gold),
        Score(f"htmldate {version('htmldate')} extensive", tallies["htmldate"].scores(), tallies["htmldate"].gold,
              note="recomputed on the same pages"),
        *published("date"),
        Score("newsbeam title", tallies["title"].scores(), tallies["title"].gold),
        Score("newsbeam byline (author)", tallies["byline"].scores(), tallies["byline"].gold),
        Score("newsbeam authors (author)", tallies["authors"].scores(), tallies["authors"].gold),
        Score("newsbeam authors, each name in gold", tallies["names"].scores(), tallies["names"].gold),
    ]
    return result


def _tally_page(page: SegmentPage, article: dict | None, tallies: dict[str, FieldTally]) -> None:
    if page.date:
        tallies["date"].add(page.date, published_day(article))
        tallies["htmldate"].add(page.date, htmldate_day(page.html_path, page.url))
    if page.title:
        tallies["title"].add(page.title, article.get("title") if article else None)
    if page.author:
        names = article.get("authors") if article else None
        tallies["byline"].add(page.author, article.get("byline") if article else None)
        tallies["authors"].add(page.author, "; ".join(names) if names else None)
        tallies["names"].add_names(page.author, names or [])
