"""Run the pipeline's own code on corpus items: the capture reader, then ``build_article``.

Scores must describe what ``newsbeam run`` writes, so nothing here re-implements a step: an HTML file
goes through the same reader as in a run (gzip, charset detection) and the same ``Enricher`` built from
the run config (`configs/local.yaml` unless ``newsbeam eval --config`` names another). Articles are cached
per file and config because several tasks score the same pages.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path

from pipeline.captures import ReadLimits, iter_captures, read_limits
from pipeline.config import load_run_config
from transforms.article import Enricher, build_article
from transforms.records import Capture


@lru_cache(maxsize=2)
def _pipeline(config: Path | None) -> tuple[Enricher, ReadLimits]:
    cfg = load_run_config(config)
    return Enricher.from_config(cfg), read_limits(cfg["read"])


@cache
def html_article(path: Path, url: str | None, config: Path | None = None) -> dict | None:
    """The article row the pipeline writes for the HTML capture in ``path`` fetched from ``url``.

    None when the pipeline rejects the page (as a run would). The corpora carry no fetch time, so there
    is no capture time to fall back on (the file's modification time dates the corpus, not the page).
    """
    capture = read_html_capture(path, config)
    if capture is None:
        return None
    capture = replace(capture, url=url or None, captured_at=None, captured_at_source=None)
    return build_article(capture, _pipeline(config)[0])[0]


def read_html_capture(path: Path, config: Path | None = None) -> Capture | None:
    """The capture the pipeline's reader makes of ``path`` (gzip, charset), None if it rejects the file."""
    captures = [c for c in iter_captures(str(path), _pipeline(config)[1]) if isinstance(c, Capture)]
    return captures[0] if captures else None


def text_article(source: str, text: str, captured_at: datetime | None, config: Path | None = None) -> dict | None:
    """The article row for a plain-text capture (a wire story), or None when it is rejected."""
    enricher, _ = _pipeline(config)
    capture = Capture(source, "text", text, captured_at=captured_at,
                      captured_at_source="record" if captured_at else None)
    return build_article(capture, enricher)[0]
