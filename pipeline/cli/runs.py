"""``newsbeam runs``: the run history of an output folder, from ``OUT/_runs/*.json``."""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.cli.options import EXIT_OK, EXIT_USAGE
from pipeline.output.sink import join, matching_files

COLUMNS = (("started_at", 25), ("run_id", 30), ("status", 14), ("exit_code", 5), ("seconds", 9),
           ("files_read", 7), ("captures_read", 9), ("articles_written", 9), ("duplicates", 6), ("rejected", 9))


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("runs", help="list the run history of an output folder",
                                 description="One line per run: when, what, how many, how long, exit status.")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="the output folder of `newsbeam run`")
    parser.add_argument("--json", action="store_true", help="print the summaries as JSON lines")
    parser.add_argument("--last", type=int, metavar="N", help="only the N most recent runs")
    parser.set_defaults(handler=runs_command)


def load_runs(output: str) -> list[dict]:
    """Every saved run summary under ``output``, oldest first."""
    runs = []
    for path in matching_files(join(output.rstrip("/"), "_runs", "*.json")):
        with open(path, encoding="utf-8") as handle:
            runs.append(json.load(handle))
    return sorted(runs, key=lambda run: run.get("started_at", ""))


def runs_command(args: argparse.Namespace, _extra: list[str]) -> int:
    runs = load_runs(args.output)
    if args.last:
        runs = runs[-args.last:]
    if args.json:
        for run in runs:
            print(json.dumps(run))
        return EXIT_OK
    if not runs:
        print(f"newsbeam: no runs recorded under {args.output}", file=sys.stderr)
        return EXIT_USAGE
    print("".join(f"{name[:width - 1]:<{width}}" for name, width in COLUMNS))
    for run in runs:
        values = {**run, "duplicates": run.get("duplicates_in_run", 0) + run.get("already_committed", 0)}
        print("".join(f"{str(values.get(name, ''))[:width - 1]:<{width}}" for name, width in COLUMNS))
    return EXIT_OK
