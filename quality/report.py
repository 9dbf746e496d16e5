"""Scores of one evaluation task, and how they print beside the published baselines."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import yaml

PUBLISHED = Path(str(resources.files("configs") / "eval.yaml"))


class CorpusError(ValueError):
    """The corpus folder is missing files or holds data of the wrong shape; nothing is scored."""


@dataclass(frozen=True)
class Score:
    """One row of a task's table: ours, or a baseline (``published`` when quoted, not recomputed)."""

    system: str
    metrics: dict[str, float]
    items: int
    published: bool = False
    note: str = ""


@dataclass
class TaskResult:
    task: str
    corpus: str
    metric: str
    scores: list[Score] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def render(result: TaskResult) -> str:
    """A plain-text table: one line per system, metric columns in the order first seen."""
    columns: list[str] = []
    for score in result.scores:
        columns += [name for name in score.metrics if name not in columns]
    labels = [score.system + (" (published)" if score.published else "") for score in result.scores]
    width = max([34, *(len(label) + 2 for label in labels)])
    header = f"{'system':<{width}}" + "".join(f"{name:>10}" for name in columns) + f"{'items':>8}  note"
    lines = [f"== {result.task}: {result.metric} ({result.corpus})", header, "-" * len(header)]
    for score, label in zip(result.scores, labels, strict=True):
        values = "".join(f"{score.metrics[c]:>10.4f}" if c in score.metrics else f"{'':>10}" for c in columns)
        lines.append(f"{label:<{width}}{values}{score.items:>8}  {score.note}")
    return "\n".join(lines)


def f1(precision: float, recall: float) -> float:
    """Harmonic mean; 0 when both are 0."""
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def ratio(part: float, whole: float) -> float:
    """``part / whole``, 0 for an empty whole (nothing to score is no score, not an error)."""
    return part / whole if whole else 0.0


def published(task: str, path: Path = PUBLISHED) -> list[Score]:
    """The published (quoted) baseline rows for ``task`` from `configs/eval.yaml`."""
    with open(path, encoding="utf-8") as handle:
        entries = (yaml.safe_load(handle) or {}).get(task, [])
    return [Score(e["system"], dict(e["metrics"]), e["items"], published=True, note=e.get("note", ""))
            for e in entries]
