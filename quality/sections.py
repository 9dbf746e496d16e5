"""``section`` task: the partition desk against hand labels of news pages from the corpora.

The labels (`quality/section_labels.tsv`) name, for pages of article-extraction-benchmark and
trafilatura-eval, the desk a reader gives the page from its own content and URL; its ``dev`` and
``heldout`` halves come from a hash of the page id. ``fresh`` is a second labelled set
(`quality/section_labels_fresh.tsv`, other pages of trafilatura-eval), kept for a check on pages the rules
were never looked at against, since the held-out half has been scored during tuning. A prediction is right
when the pipeline's ``section`` is that desk. Scores are split by how the desk was found: from a label
the page declares (breadcrumb, meta tags, URL path), inferred from the text, or ``unknown``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from quality.articles import html_article
from quality.corpora import in_split, read_benchmark_pages, read_segment_pages
from quality.report import CorpusError, Score, TaskResult, ratio

LABELS = Path(__file__).resolve().parent / "section_labels.tsv"
FRESH = "fresh"  # the split that scores FRESH_LABELS whole
FRESH_LABELS = LABELS.with_name("section_labels_fresh.tsv")


@dataclass(frozen=True)
class LabelledPage:
    id: str
    url: str
    html_path: Path
    desk: str


def read_labelled_pages(corpora: Path, labels: Path = LABELS) -> list[LabelledPage]:
    """The labelled pages, found in the corpus folders that ``labels`` names inside ``corpora``."""
    wanted: dict[str, dict[str, str]] = {}
    for line in labels.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            corpus, item_id, desk = line.split("\t")
            wanted.setdefault(corpus, {})[item_id] = desk
    readers = {"article-extraction-benchmark": read_benchmark_pages, "trafilatura-eval": read_segment_pages}
    pages = []
    for corpus, desks in wanted.items():
        if corpus not in readers:
            raise CorpusError(f"{labels}: no reader for corpus {corpus!r}")
        found = {page.id: page for page in readers[corpus](corpora / corpus)}
        missing = sorted(set(desks) - set(found))
        if missing:
            raise CorpusError(f"{corpora / corpus}: labelled pages missing: {missing[:3]}")
        pages += [LabelledPage(i, found[i].url, found[i].html_path, desk) for i, desk in desks.items()]
    return pages


def score(corpus: Path, limit: int | None, progress: Callable[[int, int], None], config: Path | None = None,
          split: str = "all", labels: Path | None = None) -> TaskResult:
    """Score one half of the labelled set, all of it, or the whole ``fresh`` set (``labels`` replaces the file)."""
    fresh = split == FRESH
    labels = labels or (FRESH_LABELS if fresh else LABELS)
    pages = [p for p in read_labelled_pages(corpus, labels) if fresh or in_split(p.id, split)][:limit]
    right, seen, folders = Counter(), Counter(), Counter()
    for done, page in enumerate(pages, start=1):
        article = html_article(page.html_path, page.url, config)
        kind = _kind(article)
        seen[kind] += 1
        right[kind] += bool(article) and article["section"] == page.desk
        if article:
            folders[article["section"]] += 1
        progress(done, len(pages))
    total = len(pages)
    result = TaskResult("section", f"{corpus.name} ({split})", "share of labelled pages whose section is the desk")
    result.scores += [
        Score("newsbeam section, all pages", {"right": ratio(sum(right.values()), total)}, total),
        Score("  declared by the page", {"right": ratio(right["declared"], seen["declared"])}, seen["declared"],
              note="breadcrumb, meta, URL path, record"),
        Score("  inferred from the text", {"right": ratio(right["inferred"], seen["inferred"])}, seen["inferred"]),
        Score("  unknown", {"share": ratio(seen["unknown"], total)}, seen["unknown"]),
        Score("  rejected", {"share": ratio(seen["rejected"], total)}, seen["rejected"]),
        Score("partition folders", {"count": float(len(folders))}, total, note=", ".join(sorted(folders))),
    ]
    return result


def _kind(article: dict | None) -> str:
    """How the article's desk was found: ``declared`` by the page, ``inferred``, ``unknown``, or ``rejected``."""
    if article is None:
        return "rejected"
    if article["section_source"] == "none":
        return "unknown"
    return "inferred" if article["section_source"] == "inferred" else "declared"
