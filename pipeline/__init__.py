"""Beam wiring, IO, options and the command line of newsbeam."""

import logging
import os

# Arrow's default memory pool (mimalloc) keeps memory that Parquet reading and writing freed, so each chunk
# of a local run would peak higher than the one before (docs/performance.md).
# Arrow picks its pool once, from this variable, when pyarrow is imported, so it is set before anything
# imports it; a value the user set wins, and worker processes started from here inherit it.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def _drop_gcp_client_notice(record: logging.LogRecord) -> bool:
    """Beam warns at import that Google Cloud clients are missing; they are optional here (Dataflow only)."""
    return "apitools not found" not in str(record.msg)


logging.getLogger().addFilter(_drop_gcp_client_notice)
