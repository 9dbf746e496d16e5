"""``newsbeam report``: one self-contained HTML page about an output folder (see ``pipeline.analyst.report``)."""

from __future__ import annotations

import argparse

from pipeline.analyst.report import DEFAULT_TOP, REPORT_FILE, write_report
from pipeline.cli.options import EXIT_OK, EXIT_USAGE, add_output_folder, output_exists


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``report`` command to the CLI."""
    parser = commands.add_parser(
        "report", help="write a self-contained HTML report with charts about an output folder",
        description="Charts of articles per day by section, language mix, top entities, dateline places, "
                    "rejections by reason and run history, each with its figures as a table.")
    add_output_folder(parser)
    parser.add_argument("--html", metavar="FILE", help=f"where to write the report (default DIR/{REPORT_FILE})")
    parser.add_argument("--top", type=int, default=DEFAULT_TOP, metavar="N",
                        help=f"entities and dateline places shown (default {DEFAULT_TOP})")
    parser.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace, _extra: list[str]) -> int:
    if not output_exists(args.output):
        return EXIT_USAGE
    path = write_report(args.output, args.html, args.top)
    print(f"report written to {path}")
    return EXIT_OK
