"""``newsbeam sql`` and ``newsbeam shell``: DuckDB over an output folder, with its views ready.

The shell is a small loop on DuckDB's Python API rather than the DuckDB CLI: the CLI is not always installed,
and the one packaged on PyPI (``duckdb-cli``) lags the engine newsbeam is tested with.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.options import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from pipeline.views import VIEW_NAMES, connect
from transforms.words import display_width

if TYPE_CHECKING:
    import duckdb

PROMPT, CONTINUATION = "D ", "· "
# How results print, as DuckDB's CLI names its modes; ``auto`` is a table when its columns fit the terminal,
# else one line per column.
MODES = ("auto", "box", "line", "csv", "json", "jsonl")
SHELL_HELP = f"""Statements end with ';'. Views: articles, entities, rejected, runs.
  .tables          list the views
  .schema VIEW     columns and types of a view
  .mode MODE       how results print: {', '.join(MODES)}
  .help            this text
  .quit / .exit    leave (so does Ctrl-D)"""
DOT_COMMANDS = (".tables", ".schema", ".mode", ".help", ".quit", ".exit")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``sql`` and ``shell`` commands to the CLI."""
    sql = commands.add_parser(
        "sql", help="run SQL on an output folder (views: articles, entities, rejected, runs)",
        description="Run SQL statements on the output folder's views and print the last result.",
        epilog=f"Exit codes: {EXIT_OK} success, {EXIT_FAILED} the SQL failed, {EXIT_USAGE} no such output folder.")
    _add_output_argument(sql)
    sql.add_argument("query", help="SQL, e.g. \"select section, count(*) from articles group by all\"")
    sql.add_argument("--mode", "-m", choices=MODES, default="auto",
                     help="how the result prints: a box table, one line per column (line), csv, a JSON array or "
                          "JSON lines; default auto: a table when its columns fit the terminal, else line")
    sql.add_argument("--csv", dest="mode", action="store_const", const="csv", help="the same as --mode csv")
    sql.add_argument("--max-rows", type=int, default=1000, metavar="N",
                     help="rows a table shows at most (default 1000; the other modes print all)")
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
        show(relation, args.query, args.mode, args.max_rows)
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
    buffer, failures, session = StatementBuffer(), 0, {"mode": "auto"}
    while (line := read_line(CONTINUATION if buffer.pending else PROMPT)) is not None:
        statement = buffer.feed(line)
        if statement in (".quit", ".exit"):
            return failures
        if statement:
            failures += 0 if _run_statement(connection, statement, session) else 1
    leftover = buffer.rest()
    if leftover:
        failures += 0 if _run_statement(connection, leftover, session) else 1
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


def show(relation: duckdb.DuckDBPyRelation, statement: str, mode: str = "auto", max_rows: int | None = None) -> None:
    """Print a result in ``mode`` (see ``MODES``); an EXPLAIN's plan as the plan text."""
    import duckdb

    if duckdb.extract_statements(statement)[-1].type == duckdb.StatementType.EXPLAIN:
        for _key, plan in relation.fetchall():
            print(plan)
        return
    width = shutil.get_terminal_size().columns
    if mode == "auto":
        mode = "box" if _table_width(relation) <= width else "line"
    if mode == "box":
        relation.show(max_rows=max_rows, max_width=width)
    elif mode == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(relation.columns)
        writer.writerows(relation.fetchall())
    elif mode == "line":
        _print_lines(relation)
    else:
        rows = (json.dumps(dict(zip(relation.columns, row, strict=True)), ensure_ascii=False, default=str)
                for row in relation.fetchall())
        print("\n".join(rows) if mode == "jsonl" else "[" + ",\n".join(rows) + "]")


def _table_width(relation: duckdb.DuckDBPyRelation) -> int:
    """Columns a box table needs to show every column's name and type (values wrap within a column)."""
    return 1 + sum(max(display_width(name), len(str(kind))) + 3
                   for name, kind in zip(relation.columns, relation.types, strict=True))


def _print_lines(relation: duckdb.DuckDBPyRelation) -> None:
    """DuckDB's line mode: one ``column = value`` line per column, a blank line between rows."""
    pad = max(map(display_width, relation.columns), default=0)
    for number, row in enumerate(relation.fetchall()):
        if number:
            print()
        for name, value in zip(relation.columns, row, strict=True):
            print(f"{' ' * (pad - display_width(name))}{name} = {'NULL' if value is None else value}")


def _returns_rows(statement: str) -> bool:
    """True for queries (select, describe, explain, pragma), not for DDL, inserts or settings."""
    import duckdb

    last = duckdb.extract_statements(statement)[-1]
    return last.expected_result_type == [duckdb.ExpectedResultType.QUERY_RESULT]


def _run_statement(connection: duckdb.DuckDBPyConnection, statement: str, session: dict) -> bool:
    """Run one statement or dot-command; ``session`` holds the settings dot-commands change (the mode)."""
    import duckdb

    command, _, argument = statement.partition(" ")
    argument = argument.strip()
    try:
        if command == ".help":
            print(SHELL_HELP)
        elif command == ".tables":
            print("  ".join(VIEW_NAMES))
        elif command == ".schema":
            connection.sql(f"describe {argument or 'articles'}").show(max_rows=200)
        elif command == ".mode" and argument in MODES:
            session["mode"] = argument
        elif command == ".mode":
            print(f"Error: .mode takes one of {', '.join(MODES)}, not {argument!r}", file=sys.stderr)
            return False
        elif command.startswith("."):
            print(f"Error: {command} is not supported here; supported: {' '.join(DOT_COMMANDS)}", file=sys.stderr)
            return False
        else:
            relation = connection.sql(statement)
            if _returns_rows(statement):
                show(relation, statement, session["mode"])
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
