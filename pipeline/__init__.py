"""Beam wiring, IO, options and the command line of newsbeam."""

import logging


def _drop_gcp_client_notice(record: logging.LogRecord) -> bool:
    """Beam warns at import that Google Cloud clients are missing; they are optional here (Dataflow only)."""
    return "apitools not found" not in str(record.msg)


logging.getLogger().addFilter(_drop_gcp_client_notice)
