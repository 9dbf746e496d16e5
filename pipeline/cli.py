"""``newsbeam``: the command line. Each command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from pipeline import batch, compact, evaluate, history, query, report, stream

# Modules with a ``register(subparsers)`` function; each sets ``handler`` (and ``passes_beam_args``
# when unknown options are Beam's) on its parser.
COMMANDS = [batch, compact, evaluate, history, query, report, stream]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbeam",
        description="Turn raw news captures (HTML, WARC, JSONL, text) into clean, enriched, "
                    "Hive-partitioned Parquet that DuckDB reads directly.",
        epilog="Run 'newsbeam COMMAND --help' for a command's options.",
    )
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="log lines as text (default) or as one JSON object per line, for log collectors")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="log level (default INFO, WARNING with a command's --quiet)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_beam_args", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    configure_logging(args.log_format, args.log_level or ("WARNING" if getattr(args, "quiet", False) else "INFO"))
    return args.handler(args, extra)


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str, level: str) -> None:
    """Leveled logs on stderr, as text or JSON lines; newsbeam's own at ``level``."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Beam narrates its own machinery at INFO; keep it to warnings unless debugging.
    logging.getLogger("apache_beam").setLevel(level if level == "DEBUG" else "WARNING")


if __name__ == "__main__":
    sys.exit(main())
