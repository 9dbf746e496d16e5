"""What a newsbeam process sets up before Beam and Arrow load: the launcher and its SDK workers alike."""

from __future__ import annotations

import logging
import os


def _drop_gcp_client_notice(record: logging.LogRecord) -> bool:
    """Beam warns at import that Google Cloud clients are missing; they are optional here (Dataflow only)."""
    return "apitools not found" not in str(record.msg)


def prepare_process() -> None:
    """Choose Arrow's memory pool and quiet Beam's import-time notice; call before pyarrow is imported.

    Arrow's default memory pool (mimalloc) keeps memory that Parquet reading and writing freed, so later
    pipelines of a run peak higher. Arrow picks its pool once, from this variable, when pyarrow is imported;
    a value the user set wins, and worker processes started from this one inherit it. Safe to call twice.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    logging.getLogger().addFilter(_drop_gcp_client_notice)
