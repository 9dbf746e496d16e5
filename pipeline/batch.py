"""``newsbeam run``: the batch job over capture files."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import time
from datetime import UTC, datetime

from pipeline.config import ConfigError, load_run_config, pipeline_version
from pipeline.options import (
    EXIT_FAILED,
    EXIT_NOTHING_READ,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    add_run_arguments,
    beam_options,
    expand_input,
)

LOG = logging.getLogger("newsbeam")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``run`` command to the CLI."""
    parser = commands.add_parser(
        "run", help="run the batch job over capture files",
        description="Read captures, strip furniture, enrich every article and write Parquet partitions. "
                    "Re-running over the same input adds no rows; new captures add only their rows.",
        epilog=f"Exit codes: {EXIT_OK} success, {EXIT_FAILED} failure, {EXIT_USAGE} bad usage or config, "
               f"{EXIT_NOTHING_READ} no capture could be read, {EXIT_REJECTED} captures rejected "
               "(only with --fail-on-reject).")
    add_run_arguments(parser)
    parser.set_defaults(handler=run_command, passes_beam_args=True)


def new_run_id(started: datetime) -> str:
    """Sortable and unique: the start time in UTC plus a random suffix."""
    return started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def run_command(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Run the batch job and report it; the exit code says how it went."""
    import apache_beam as beam

    from pipeline.graph import build_pipeline
    from pipeline.summary import RunSummary, counters, fill_from_counters, render, save

    try:
        cfg = load_run_config(args.config)
    except ConfigError as error:
        print(f"newsbeam: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.entities:
        cfg["entities"]["enabled"] = args.entities == "on"
    patterns = [expand_input(p) for p in args.input]
    output = expand_input(args.output).rstrip("/*")
    started = datetime.now(UTC)
    run_id, version = new_run_id(started), pipeline_version()
    summary = RunSummary(run_id, version, patterns, output, started.isoformat())
    LOG.info("run %s: reading %s into %s", run_id, ", ".join(patterns), output)
    clock = time.monotonic()
    try:
        pipeline = beam.Pipeline(options=beam_options(args, beam_args))
        build_pipeline(pipeline, patterns, output, cfg, run_id, version)
        result = pipeline.run()
        result.wait_until_finish()
    except Exception as error:
        summary.status, summary.seconds = "failed", round(time.monotonic() - clock, 3)
        LOG.error("run %s failed: %s", run_id, error)
        save(summary)
        return EXIT_FAILED
    summary.seconds = round(time.monotonic() - clock, 3)
    fill_from_counters(summary, counters(result))
    summary.status = "succeeded"
    saved = save(summary)
    if not args.quiet:
        print(render(summary))
        print(f"summary saved to {saved}")
    if summary.captures_read == 0:
        print("newsbeam: no capture could be read from the input", file=sys.stderr)
        return EXIT_NOTHING_READ
    if args.fail_on_reject and summary.rejected:
        return EXIT_REJECTED
    return EXIT_OK
