"""``newsbeam``: the command line. Each command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_beam_args", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.handler(args, extra)


if __name__ == "__main__":
    sys.exit(main())
