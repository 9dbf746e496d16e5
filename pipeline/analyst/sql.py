"""DuckDB over an output folder, with its views ready: the statements of ``newsbeam sql`` and ``newsbeam shell``.

The shell is a small loop on DuckDB's Python API rather than the DuckDB CLI: the CLI is not always installed,
and the one packaged on PyPI (``duckdb-cli``) lags the engine newsbeam is tested with.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.output.views import VIEW_NAMES

if TYPE_CHECKING:
    import duckdb

PROMPT, CONTINUATION = "D ", "· "
SHELL_HELP = """Statements end with ';'. Views: articles, entities, rejected, runs.
  .tables          list the views
  .schema VIEW     columns and types of a view
  .help            this text
  .quit / .exit    leave (so does Ctrl-D)"""


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


def returns_rows(statement: str) -> bool:
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
            if returns_rows(statement):
                show(relation, statement)
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

