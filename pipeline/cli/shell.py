"""``newsbeam shell``: an interactive DuckDB session on an output folder's views, or a script from stdin."""

from __future__ import annotations

import argparse
import sys

from pipeline.analyst.sql import run_shell, script_line, typed_line
from pipeline.cli.options import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_output_folder, output_exists
from pipeline.output.views import VIEW_NAMES, connect


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``shell`` command to the CLI."""
    shell = commands.add_parser(
        "shell", help="interactive DuckDB on an output folder, views ready",
        description="An interactive DuckDB session on the output folder's views; reads a script from stdin "
                    "when stdin is not a terminal.")
    add_output_folder(shell)
    shell.set_defaults(handler=shell_command)


def shell_command(args: argparse.Namespace, _extra: list[str]) -> int:
    """Interactive when stdin is a terminal; otherwise run stdin as a script and fail if a statement failed."""
    if not output_exists(args.output):
        return EXIT_USAGE
    connection = connect(args.output)
    if not sys.stdin.isatty():
        return EXIT_FAILED if run_shell(connection, script_line) else EXIT_OK
    import readline  # noqa: F401  (line editing and history for input())
    print(f"newsbeam shell on {args.output}: views {', '.join(VIEW_NAMES)}. '.help' for help.")
    run_shell(connection, typed_line)
    return EXIT_OK
