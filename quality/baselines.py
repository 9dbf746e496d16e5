"""Reference systems recomputed on the same decoded pages as the pipeline: trafilatura alone, htmldate alone.

They answer "does newsbeam add anything over the library it is built on?" on exactly the items scored.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import trafilatura
from htmldate import find_date

from quality.articles import read_html_capture


def version(package: str) -> str:
    return metadata.version(package)


def trafilatura_text(path: Path, url: str | None) -> str:
    """trafilatura's main text with the settings of its own benchmark's standard run (tables, no comments)."""
    capture = read_html_capture(path)
    if capture is None:
        return ""
    return trafilatura.extract(capture.content, url=url, include_comments=False, include_tables=True,
                               include_formatting=False) or ""


def htmldate_day(path: Path, url: str | None) -> str | None:
    """htmldate's publication day (``YYYY-MM-DD``) in its extensive mode, original date preferred."""
    capture = read_html_capture(path)
    if capture is None:
        return None
    return find_date(capture.content, url=url, extensive_search=True, original_date=True)
