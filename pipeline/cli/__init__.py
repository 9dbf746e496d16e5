"""``newsbeam``: the command line, one module per command, named after it, each with a ``register(subparsers)``.

A command parses its options, calls ``graph``, ``output``, ``analyst`` or ``runtime`` and turns the outcome
into an exit code; what two commands share lives in ``options`` here or in those packages, never in another
command. Nothing outside this package imports it; ``eval`` alone imports ``quality``. Commands are imported
when the parser is built, after ``prepare_process`` has set up the process.
"""

from __future__ import annotations

import argparse
import importlib

from pipeline.runtime.fast_exit import exit_without_collecting
from pipeline.runtime.logs import configure_logging
from pipeline.runtime.process import prepare_process

# Modules of this package with a ``register(subparsers)`` function; each sets ``handler`` (and
# ``passes_beam_args`` when unknown options are Beam's) on its parser.
COMMANDS = ("run", "compact", "eval", "runs", "sql", "shell", "report", "stream")


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
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    prepare_process()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_beam_args", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    configure_logging(args.log_format, args.log_level or ("WARNING" if getattr(args, "quiet", False) else "INFO"))
    return args.handler(args, extra)


def entry() -> None:
    """The ``newsbeam`` program (``main`` is for callers in a Python process that goes on)."""
    exit_without_collecting(main())

