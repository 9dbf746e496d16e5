"""DuckDB over an output folder, with its views ready: the statements of ``newsbeam sql`` and ``newsbeam shell``.

The shell is a small loop on DuckDB's Python API rather than the DuckDB CLI: the CLI is not always installed,
and the one packaged on PyPI (``duckdb-cli``) lags the engine newsbeam is tested with.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.output.views import VIEW_NAMES
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


def returns_rows(statement: str) -> bool:
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
            if returns_rows(statement):
                show(relation, statement, session["mode"])
    except duckdb.Error as error:
        print(f"Error: {error}", file=sys.stderr)
        return False
    return True


def typed_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        print()
        return None


def script_line(_prompt: str) -> str | None:
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None

