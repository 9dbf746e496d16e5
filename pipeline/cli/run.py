"""``newsbeam run``: the batch job over capture files, incremental and safe to schedule."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from contextlib import nullcontext
from datetime import UTC, datetime

from pipeline.cli.options import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_NOTHING_READ,
    EXIT_NOTHING_TO_DO,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    add_run_arguments,
    beam_options,
    command_config,
    expand_input,
)
from pipeline.config import ConfigError, pipeline_version
from transforms.dates import parse_datetime

LOG = logging.getLogger("newsbeam")

EXIT_CODES_HELP = (
    f"Exit codes: {EXIT_OK} success (rejected captures, if any, are listed in the summary); "
    f"{EXIT_REJECTED} success but captures were rejected (only with --fail-on-reject); "
    f"{EXIT_NOTHING_TO_DO} nothing to do (every input already committed); "
    f"{EXIT_LOCKED} another run holds the output's lock (try again later, or --wait); "
    f"{EXIT_USAGE} bad usage or configuration; "
    f"{EXIT_NOTHING_READ} nothing usable (no input matched, or every capture was rejected); "
    f"{EXIT_FAILED} failure.")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``run`` command to the CLI."""
    parser = commands.add_parser(
        "run", help="run the batch job over capture files",
        description="Read captures, strip furniture, enrich every article and write Parquet partitions. "
                    "Incremental: input files already committed (same path, size and mtime, or same content) "
                    "are not read again; a rewritten file is re-read and its rows replace the old ones.",
        epilog=EXIT_CODES_HELP)
    add_run_arguments(parser)
    parser.add_argument("--reprocess", action="store_true",
                        help="read every input file again and replace the rows of the articles it yields "
                             "(a backfill after a rule change)")
    parser.add_argument("--since", type=_timestamp, metavar="WHEN",
                        help="only captures taken at or after WHEN (ISO date or time, UTC)")
    parser.add_argument("--until", type=_timestamp, metavar="WHEN", help="only captures taken before WHEN")
    parser.add_argument("--wait", action="store_true",
                        help="when another run holds the output's lock, wait for it instead of exiting "
                             f"with code {EXIT_LOCKED}")
    parser.set_defaults(handler=run_command, passes_beam_args=True)


def _timestamp(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not a date or time: {value!r}")
    return parsed


def run_command(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Run the batch job under the output's lock and report it; the exit code says how it went."""
    from pipeline.output.lock import LockHeld, OutputLock
    from pipeline.output.summary import RunSummary, new_run_id, save
    from pipeline.output.views import write_views

    try:
        cfg = command_config(args)
    except ConfigError as error:
        print(f"newsbeam: {error}", file=sys.stderr)
        return EXIT_USAGE
    patterns = [expand_input(p) for p in args.input]
    output = expand_input(args.output).rstrip("/*")
    started = datetime.now(UTC)
    summary = RunSummary(new_run_id(started), pipeline_version(), patterns, output, started.isoformat())
    clock = time.monotonic()
    try:
        with OutputLock(output, summary.run_id, wait=args.wait):
            code = _run_locked(args, beam_args, cfg, summary)
    except LockHeld as held:
        print(f"newsbeam: {held}", file=sys.stderr)
        return EXIT_LOCKED
    except Exception as error:  # reported, saved in the run history, and turned into an exit code
        # An OSError names its path (an unwritable output folder, a full disk): the message says it all.
        LOG.error("run %s failed: %s", summary.run_id, error, exc_info=not isinstance(error, OSError))
        summary.status, summary.message, code = "failed", f"{type(error).__name__}: {error}", EXIT_FAILED
    summary.seconds = round(time.monotonic() - clock, 3)
    summary.exit_code = code
    try:
        saved = save(summary)
        write_views(output)
    except OSError as error:
        print(f"newsbeam: cannot write to the output folder: {error}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        from pipeline.output.summary import render

        print(render(summary))
        print(f"summary saved to {saved}")
    return code


def _run_locked(args: argparse.Namespace, beam_args: list[str], cfg: dict, summary) -> int:
    """Plan the inputs against the ledger, run the pipeline if there is work, fill in the summary."""
    from pipeline.graph.batch import RunSpec, execute
    from pipeline.output.ledger import list_inputs, load_ledger, plan_inputs
    from pipeline.output.sink import join
    from pipeline.output.summary import fill_from_counters, merge_counts
    from pipeline.runtime.progress import ProgressMonitor

    files = list_inputs(summary.inputs)
    plan = plan_inputs(files, load_ledger(summary.output), args.reprocess)
    summary.files_listed, summary.files_unchanged = plan.listed, plan.unchanged
    LOG.info("run %s: %d files listed, %d unchanged since committed, %d to read (%d changed)",
             summary.run_id, plan.listed, plan.unchanged, len(plan.to_read), len(plan.changed))
    if not files:
        summary.status, summary.message = "nothing read", "no capture file matches the input"
        print(f"newsbeam: no capture file matches {', '.join(summary.inputs)}", file=sys.stderr)
        return EXIT_NOTHING_READ
    if not plan.to_read:
        summary.status, summary.message = "nothing to do", f"all {plan.listed} input files already committed"
        return EXIT_NOTHING_TO_DO
    progress_dir = join(summary.output, f".progress-{summary.run_id}") if "://" not in summary.output else None
    show = bool(progress_dir) and not args.quiet and sys.stderr.isatty()
    options, totals = beam_options(args, beam_args), {}
    chunk = cfg.get("run", {}).get("files_per_pipeline") or len(plan.to_read)
    with ProgressMonitor(progress_dir, len(plan.to_read), enabled=show) if progress_dir else nullcontext():
        for start in range(0, len(plan.to_read), chunk):
            spec = RunSpec(plan.to_read[start:start + chunk], summary.output, cfg, summary.run_id,
                           summary.pipeline_version, reprocess=args.reprocess, since=args.since, until=args.until,
                           progress_dir=progress_dir)
            totals = merge_counts(totals, execute(spec, options))
            if start + chunk < len(plan.to_read):
                # A finished pipeline's buffers sit in reference cycles until the next full collection; freed
                # now, the next chunk reuses that memory instead of adding to it.
                gc.collect()
    summary.status = "succeeded"
    if not totals:  # some runners (Flink detached, Dataflow templates) report no metrics to the launcher
        summary.message = "the runner reported no metrics: the figures are unknown, see the ledger and _rejected/"
        return EXIT_OK
    fill_from_counters(summary, totals)
    if summary.captures_read == 0:
        summary.message = "no capture could be read from the input"
        return EXIT_NOTHING_READ
    if summary.rejected == summary.captures_read:  # every file unreadable, or nothing in it an article
        summary.message = f"all {summary.captures_read} captures were rejected (see _rejected/)"
        return EXIT_NOTHING_READ
    if args.fail_on_reject and summary.rejected:
        return EXIT_REJECTED
    return EXIT_OK
