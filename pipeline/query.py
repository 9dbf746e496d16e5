"""``newsbeam sql`` and ``newsbeam shell``: DuckDB over an output folder, with its views ready.

The shell is a small loop on DuckDB's Python API rather than the DuckDB CLI: the CLI is not always installed,
and the one packaged on PyPI (``duckdb-cli``) lags the engine newsbeam is tested with.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.options import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from pipeline.views import VIEW_NAMES, connect

if TYPE_CHECKING:
    import duckdb

PROMPT, CONTINUATION = "D ", "· "
SHELL_HELP = """Statements end with ';'. Views: articles, entities, rejected, runs.
  .tables          list the views
  .schema VIEW     columns and types of a view
  .help            this text
  .quit / .exit    leave (so does Ctrl-D)"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``sql`` and ``shell`` commands to the CLI."""
    sql = commands.add_parser(
        "sql", help="run SQL on an output folder (views: articles, entities, rejected, runs)",
        description="Run SQL statements on the output folder's views and print the last result.",
        epilog=f"Exit codes: {EXIT_OK} success, {EXIT_FAILED} the SQL failed, {EXIT_USAGE} no such output folder.")
    _add_output_argument(sql)
    sql.add_argument("query", help="SQL, e.g. \"select section, count(*) from articles group by all\"")
    sql.add_argument("--csv", action="store_true", help="print the result as CSV instead of a table")
    sql.add_argument("--max-rows", type=int, default=1000, metavar="N",
                     help="rows a table shows at most (default 1000; --csv prints all)")
    sql.set_defaults(handler=sql_command)
    shell = commands.add_parser(
        "shell", help="interactive DuckDB on an output folder, views ready",
        description="An interactive DuckDB session on the output folder's views; reads a script from stdin "
                    "when stdin is not a terminal.")
    _add_output_argument(shell)
    shell.set_defaults(handler=shell_command)


def _add_output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="a newsbeam output folder")


def sql_command(args: argparse.Namespace, _extra: list[str]) -> int:
    """Run the query; print its result as a table or CSV."""
    import duckdb  # where it is used, as in pipeline.views

    if not output_exists(args.output):
        return EXIT_USAGE
    try:
        relation = connect(args.output).sql(args.query)
        if not _returns_rows(args.query):
            return EXIT_OK
        if args.csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(relation.columns)
            writer.writerows(relation.fetchall())
        else:
            show(relation, args.query, args.max_rows)
    except duckdb.Error as error:
        print(f"newsbeam sql: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def shell_command(args: argparse.Namespace, _extra: list[str]) -> int:
    """Interactive when stdin is a terminal; otherwise run stdin as a script and fail if a statement failed."""
    if not output_exists(args.output):
        return EXIT_USAGE
    connection = connect(args.output)
    if not sys.stdin.isatty():
        return EXIT_FAILED if run_shell(connection, _script_line) else EXIT_OK
    import readline  # noqa: F401  (line editing and history for input())
    print(f"newsbeam shell on {args.output}: views {', '.join(VIEW_NAMES)}. '.help' for help.")
    run_shell(connection, _typed_line)
    return EXIT_OK


def run_shell(connection: duckdb.DuckDBPyConnection, read_line: Callable[[str], str | None]) -> int:
    """Read lines with ``read_line(prompt)`` until it returns None or '.quit'; run each statement or dot-command,
    printing results and errors. Returns the number of statements that failed."""
    buffer, failures = StatementBuffer(), 0
    while (line := read_line(CONTINUATION if buffer.pending else PROMPT)) is not None:
        statement = buffer.feed(line)
        if statement in (".quit", ".exit"):
            return failures
        if statement:
            failures += 0 if _run_statement(connection, statement) else 1
    leftover = buffer.rest()
    if leftover:
        failures += 0 if _run_statement(connection, leftover) else 1
    return failures


class StatementBuffer:
    """Collects input lines into complete statements: SQL up to a line ending in ';', or one dot-command line."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    @property
    def pending(self) -> bool:
        return bool(self._lines)

    def feed(self, line: str) -> str | None:
        """The statement ``line`` completes, if any."""
        stripped = line.strip()
        if not self._lines and (not stripped or stripped.startswith(".")):
            return stripped or None
        self._lines.append(line)
        if not stripped.endswith(";"):
            return None
        return self.rest()

    def rest(self) -> str | None:
        """Whatever was typed since the last complete statement (a script may end without ';')."""
        statement, self._lines = "\n".join(self._lines).strip(), []
        return statement or None


def show(relation: duckdb.DuckDBPyRelation, statement: str, max_rows: int | None = None) -> None:
    """Print a result as DuckDB's table; an EXPLAIN's plan as the plan text."""
    import duckdb

    if duckdb.extract_statements(statement)[-1].type == duckdb.StatementType.EXPLAIN:
        for _key, plan in relation.fetchall():
            print(plan)
    else:
        relation.show(max_rows=max_rows, max_width=shutil.get_terminal_size().columns)


def _returns_rows(statement: str) -> bool:
    """True for queries (select, describe, explain, pragma), not for DDL, inserts or settings."""
    import duckdb

    last = duckdb.extract_statements(statement)[-1]
    return last.expected_result_type == [duckdb.ExpectedResultType.QUERY_RESULT]


def _run_statement(connection: duckdb.DuckDBPyConnection, statement: str) -> bool:
    import duckdb

    command, _, argument = statement.partition(" ")
    try:
        if command == ".help":
            print(SHELL_HELP)
        elif command == ".tables":
            print("  ".join(VIEW_NAMES))
        elif command == ".schema":
            connection.sql(f"describe {argument.strip() or 'articles'}").show(max_rows=200)
        elif command.startswith("."):
            print(f"Unknown command {command}; '.help' lists the commands.", file=sys.stderr)
            return False
        else:
            relation = connection.sql(statement)
            if _returns_rows(statement):
                show(relation, statement)
    except duckdb.Error as error:
        print(f"Error: {error}", file=sys.stderr)
        return False
    return True


def _typed_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        print()
        return None


def _script_line(_prompt: str) -> str | None:
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


def output_exists(output: str) -> bool:
    """True for an existing local folder or any URL; otherwise says so on stderr."""
    if "://" in output or os.path.isdir(output):
        return True
    print(f"newsbeam: no output folder at {output}", file=sys.stderr)
    return False
