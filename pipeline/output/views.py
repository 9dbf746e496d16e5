"""DuckDB views over an output folder: ``articles``, ``entities``, ``rejected`` and ``runs``.

One SQL text serves both newsbeam's own commands (``sql``, ``shell``, ``report``) and ``OUT/views.sql``, which an
analyst ``.read``s from the DuckDB CLI or runs from Python/R without newsbeam installed.

Paths in that text are absolute: DuckDB resolves a relative path against its working directory, not against the
SQL file, so relative paths would work only when DuckDB is started inside the output folder. A part of the output
that has no file yet (no rejections, no runs) becomes a typed empty view, because DuckDB raises on a glob that
matches nothing and a query on an empty output should give zero rows, not an error. The view text therefore
reflects the folder when it was made; every run rewrites ``views.sql``.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing

import pyarrow as pa

from pipeline.output.schema import ARTICLE_GLOB, ARTICLE_SCHEMA, REJECTED_GLOB, REJECTED_SCHEMA
from pipeline.output.sink import join, matching_files, write_text_atomically
from pipeline.output.summary import RunSummary

if typing.TYPE_CHECKING:
    import duckdb

VIEWS_FILE = "views.sql"
RUNS_GLOB = "_runs/*.json"
VIEW_NAMES = ("articles", "entities", "rejected", "runs")

# Typed explicitly, not inferred: a section slug made of digits would otherwise become a number.
_PARTITION_TYPES = {"date": "DATE", "section": "VARCHAR"}
# DuckDB types of the run summary's JSON fields, by the dataclass's type hints; anything else stays raw JSON.
_JSON_TYPES = {str: "VARCHAR", int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN", list[str]: "VARCHAR[]",
               dict[str, int]: "MAP(VARCHAR, BIGINT)"}
_RUN_TYPE_OVERRIDES = {"started_at": "TIMESTAMPTZ"}  # an ISO string in the file, a timestamp to the analyst

# One row per entity of an article, named by its canonical form (so "US" and "United States" count as one);
# ``written`` is how that article wrote it.
_ENTITIES = """create or replace view entities as
select article_id, date, section, language, e.canonical as entity, e.label as label, e.count as mentions,
       e.country_code as country_code, e.text as written
from (select article_id, date, section, language, unnest(entities) as e from articles);"""


def output_location(output: str) -> str:
    """The output folder as DuckDB must see it from any working directory: absolute, or a URL as given."""
    return output.rstrip("/") if "://" in output else os.path.abspath(output)


def views_sql(output: str) -> str:
    """The ``create or replace view`` statements for the output folder, as one SQL script."""
    base = output_location(output)
    header = (f"-- newsbeam views over {base}\n"
              f"-- Load with: duckdb -cmd \".read {join(base, VIEWS_FILE)}\" (absolute paths: works from any folder).\n"
              "-- Rewritten by every newsbeam run; a view with no files at that time is empty.")
    articles = _parquet_view("articles", base, ARTICLE_GLOB, _arrow_columns(ARTICLE_SCHEMA) | _PARTITION_TYPES,
                             hive=True)
    rejected = _parquet_view("rejected", base, REJECTED_GLOB, _arrow_columns(REJECTED_SCHEMA))
    return "\n\n".join([header, articles, _ENTITIES, rejected, _runs_view(base)]) + "\n"


def write_views(output: str) -> str:
    """Write (or refresh) ``OUT/views.sql`` atomically; return its path. Called at the end of each run."""
    path = join(output_location(output), VIEWS_FILE)
    write_text_atomically(path, views_sql(output))
    return path


def connect(output: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the output folder's views defined."""
    import duckdb

    connection = duckdb.connect()
    connection.execute(views_sql(output))
    return connection


def _parquet_view(name: str, base: str, glob: str, columns: dict[str, str], hive: bool = False) -> str:
    pattern = join(base, glob)
    if not matching_files(pattern):
        return _empty_view(name, columns)
    options = ""
    if hive:
        types_literal = ", ".join(f"'{column}': '{kind}'" for column, kind in _PARTITION_TYPES.items())
        options = f",\n                  hive_partitioning = true, hive_types = {{{types_literal}}}"
    return f"create or replace view {name} as\nselect * from read_parquet({_literal(pattern)}{options});"


def _runs_view(base: str) -> str:
    columns = _run_columns()
    pattern = join(base, RUNS_GLOB)
    if not matching_files(pattern):
        return _empty_view("runs", columns)
    spec = ",\n".join(f"    {_literal(column)}: {_literal(kind)}" for column, kind in columns.items())
    return f"create or replace view runs as\nselect * from read_json({_literal(pattern)}, columns = {{\n{spec}\n}});"


def _empty_view(name: str, columns: dict[str, str]) -> str:
    typed_nulls = ",\n       ".join(f'cast(null as {kind}) as "{column}"' for column, kind in columns.items())
    return f"create or replace view {name} as -- no files yet\nselect {typed_nulls}\nwhere false;"


def _arrow_columns(schema: pa.Schema) -> dict[str, str]:
    """Column name to DuckDB type, as DuckDB itself maps the Arrow schema."""
    # DuckDB is imported where it is used, never at import: a batch run needs it only after its pipelines,
    # whose peak memory would otherwise hold its library's pages (docs/performance.md).
    import duckdb

    relation = duckdb.from_arrow(schema.empty_table())
    return {column: str(kind) for column, kind in zip(relation.columns, relation.types, strict=True)}


def _run_columns() -> dict[str, str]:
    hints = typing.get_type_hints(RunSummary)
    return {field.name: _RUN_TYPE_OVERRIDES.get(field.name) or _JSON_TYPES.get(_without_none(hints[field.name]),
                                                                               "JSON")
            for field in dataclasses.fields(RunSummary)}


def _without_none(hint: object) -> object:
    """``int | None`` is stored as an ``int`` that may be null."""
    if isinstance(hint, types.UnionType):
        remaining = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return remaining[0] if len(remaining) == 1 else hint
    return hint


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
