"""Log lines on stderr, as text or JSON, the same in the launcher and in local worker processes."""

from __future__ import annotations

import json
import logging
import os

# The launcher's choices, inherited by the SDK worker processes it starts (``pipeline.runtime.sdk_worker``).
LEVEL_VARIABLE, FORMAT_VARIABLE = "NEWSBEAM_LOG_LEVEL", "NEWSBEAM_LOG_FORMAT"


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str, level: str) -> logging.Handler:
    """Leveled logs on stderr, as text or JSON lines, at ``level``; return the handler.

    The handler itself holds the level, so a library that resets the root logger's level (Beam's SDK
    worker sets it to INFO) cannot make a ``--quiet`` run chatty. Worker processes started from this one
    inherit the choice through the environment.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Beam narrates its own machinery at INFO; keep it to warnings unless debugging.
    logging.getLogger("apache_beam").setLevel(level if level == "DEBUG" else "WARNING")
    os.environ[LEVEL_VARIABLE], os.environ[FORMAT_VARIABLE] = level, log_format
    return handler
