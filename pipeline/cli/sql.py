"""``newsbeam sql``: run SQL on an output folder's views and print the last result."""

from __future__ import annotations

import argparse
import csv
import sys

from pipeline.analyst.sql import returns_rows, show
from pipeline.cli.options import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_output_folder, output_exists
from pipeline.output.views import connect


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``sql`` command to the CLI."""
    sql = commands.add_parser(
        "sql", help="run SQL on an output folder (views: articles, entities, rejected, runs)",
        description="Run SQL statements on the output folder's views and print the last result.",
        epilog=f"Exit codes: {EXIT_OK} success, {EXIT_FAILED} the SQL failed, {EXIT_USAGE} no such output folder.")
    add_output_folder(sql)
    sql.add_argument("query", help="SQL, e.g. \"select section, count(*) from articles group by all\"")
    sql.add_argument("--csv", action="store_true", help="print the result as CSV instead of a table")
    sql.add_argument("--max-rows", type=int, default=1000, metavar="N",
                     help="rows a table shows at most (default 1000; --csv prints all)")
    sql.set_defaults(handler=sql_command)


def sql_command(args: argparse.Namespace, _extra: list[str]) -> int:
    """Run the query; print its result as a table or CSV."""
    import duckdb  # where it is used, as in pipeline.output.views

    if not output_exists(args.output):
        return EXIT_USAGE
    try:
        relation = connect(args.output).sql(args.query)
        if not returns_rows(args.query):
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
