"""``boilerplate`` task: trafilatura-eval's must-have (``with``) and must-not-have (``without``) segments.

Metric as its SOURCE.md describes trafilatura's evaluation: text and segments whitespace-normalised;
a ``with`` segment found is a true positive, missing a false negative; a ``without`` segment found is
a false positive, absent a true negative; counts are summed over pages before P/R/accuracy/F. A page
the pipeline rejects has extracted nothing. What is scored is the ``body`` column as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from quality.articles import html_article
from quality.baselines import trafilatura_text, version
from quality.corpora import read_segment_pages
from quality.report import Score, TaskResult, f1, published, ratio


@dataclass(frozen=True)
class SegmentCounts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def __add__(self, other: SegmentCounts) -> SegmentCounts:
        return SegmentCounts(self.tp + other.tp, self.fn + other.fn, self.fp + other.fp, self.tn + other.tn)


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def count_segments(text: str, with_segments: Iterable[str], without_segments: Iterable[str]) -> SegmentCounts:
    """Which gold segments the whitespace-normalised ``text`` contains."""
    text = _squeeze(text)
    found_with = [_squeeze(s) in text for s in with_segments]
    found_without = [_squeeze(s) in text for s in without_segments]
    return SegmentCounts(sum(found_with), found_with.count(False), sum(found_without), found_without.count(False))


def segment_scores(counts: SegmentCounts) -> dict[str, float]:
    precision, recall = ratio(counts.tp, counts.tp + counts.fp), ratio(counts.tp, counts.tp + counts.fn)
    total = counts.tp + counts.fn + counts.fp + counts.tn
    return {"precision": precision, "recall": recall, "accuracy": ratio(counts.tp + counts.tn, total),
            "f1": f1(precision, recall)}


def score(corpus: Path, limit: int | None, progress: Callable[[int, int], None],
          config: Path | None = None) -> TaskResult:
    pages = read_segment_pages(corpus)[:limit]
    total, alone, rejected = SegmentCounts(), SegmentCounts(), 0
    for done, page in enumerate(pages, start=1):
        article = html_article(page.html_path, page.url, config)
        rejected += article is None
        total += count_segments(article["body"] if article else "", page.with_segments, page.without_segments)
        alone += count_segments(trafilatura_text(page.html_path, page.url), page.with_segments, page.without_segments)
        progress(done, len(pages))
    result = TaskResult("boilerplate", corpus.name, "with/without segment P/R/accuracy/F, summed over pages")
    result.scores.append(Score("newsbeam body", segment_scores(total), len(pages),
                               note=f"{total.tp + total.fn} with, {total.fp + total.tn} without segments"))
    result.scores.append(Score(f"trafilatura {version('trafilatura')} alone", segment_scores(alone), len(pages),
                               note="extract(), its benchmark's standard settings, recomputed"))
    result.scores += published("boilerplate")
    result.details.update(rejected=rejected, counts=vars(total))
    return result
