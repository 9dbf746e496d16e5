"""``body`` task: the article text against article-extraction-benchmark's hand-made bodies.

Metric as the benchmark defines it (its SOURCE.md): ``\\w+`` tokens, multisets of word 4-gram shingles,
TP/FP/FN per page normalised to sum to 1, precision and recall averaged over the pages whose
denominator is not empty, F1 from the averaged P and R; accuracy = share of pages whose token sequence
equals the gold one. The gold bodies hold no headline, so the ``body`` column (which holds none either)
is scored exactly as the pipeline writes it. The baselines' stored outputs are scored the same way.

The pages are split in two by a hash of their id (`quality.corpora.THIRDS`): rules are tuned on the ``tuning``
pages only, and the ``held-out`` pages show how they do on pages nobody looked at.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from quality.articles import html_article
from quality.corpora import THIRDS, read_benchmark_baselines, read_benchmark_pages
from quality.report import Score, TaskResult, f1, published

_TOKEN = re.compile(r"\w+")
SHINGLE_WORDS = 4
SPLIT_ROWS = {"dev": "tuning", "heldout": "held-out"}  # each half's name in the score rows


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str, n: int = SHINGLE_WORDS) -> Counter:
    """Word n-grams of ``text``; a text shorter than ``n`` words is one shorter shingle."""
    words = tokens(text)
    return Counter(tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1)) if words[i:i + n])


def shingle_match(gold: str, predicted: str) -> tuple[float, float, float]:
    """``(tp, fp, fn)`` over shingle multisets, normalised to sum to 1 so long pages weigh no more."""
    want, got = shingles(gold), shingles(predicted)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _page_precision(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else tp / (tp + fp)


def _page_recall(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else tp / (tp + fn)


def averaged_scores(matches: list[tuple[float, float, float]], exact: list[bool]) -> dict[str, float]:
    """Page-averaged precision and recall (empty denominators skipped), F1 of the two, and accuracy."""
    precisions = [_page_precision(*m) for m in matches if m[0] + m[1] > 0]
    recalls = [_page_recall(*m) for m in matches if m[0] + m[2] > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    return {"f1": f1(precision, recall), "precision": precision, "recall": recall,
            "accuracy": sum(exact) / len(exact) if exact else 0.0}


def score_texts(pairs: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Benchmark scores of ``(gold, predicted)`` body pairs."""
    pairs = list(pairs)
    return averaged_scores([shingle_match(g, p) for g, p in pairs], [tokens(g) == tokens(p) for g, p in pairs])


def score(corpus: Path, limit: int | None, progress: Callable[[int, int], None],
          config: Path | None = None) -> TaskResult:
    """Our ``body`` column and every stored baseline output, on the same pages."""
    pages = read_benchmark_pages(corpus)[:limit]
    baselines = read_benchmark_baselines(corpus)
    ours = []
    for done, page in enumerate(pages, start=1):
        article = html_article(page.html_path, page.url, config)
        ours.append((page.body, article["body"] if article else ""))
        progress(done, len(pages))
    result = TaskResult("body", corpus.name, "word-4-gram shingle P/R/F1 averaged per page; exact-token accuracy")
    result.scores.append(Score("newsbeam body", score_texts(ours), len(pages)))
    for split, row in SPLIT_ROWS.items():
        part = [pair for page, pair in zip(pages, ours, strict=True) if THIRDS.of(page.id) == split]
        result.scores.append(Score(f"newsbeam body ({row} pages)", score_texts(part), len(part),
                                   note="split by a hash of the page id (quality.corpora.THIRDS)"))
    rows = [Score(f"{name} {version}".strip(), score_texts((p.body, bodies.get(p.id, "")) for p in pages),
                  len(pages), note="stored output, recomputed") for name, (version, bodies) in baselines.items()]
    result.scores += sorted(rows, key=lambda row: -row.metrics["f1"])
    result.scores += published("body")
    result.details["rejected"] = sum(1 for _, body in ours if not body)
    return result
