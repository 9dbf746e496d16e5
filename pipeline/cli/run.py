"""``newsbeam run``: the batch job over capture files, incremental and safe to schedule."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
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
    LOCAL_RUNNER,
    add_run_arguments,
    beam_options,
    choose_workers,
    command_config,
)
from pipeline.config import pipeline_version
from transforms.dates import parse_datetime

LOG = logging.getLogger("newsbeam")

EXIT_CODES_HELP = (
    f"Exit codes: {EXIT_OK} success (rejected captures, if any, are listed in the summary); "
    f"{EXIT_REJECTED} success but captures were rejected (only with --fail-on-reject); "
    f"{EXIT_NOTHING_TO_DO} nothing to do (every input already committed; {EXIT_OK} with --nothing-new-ok); "
    f"{EXIT_LOCKED} another run holds the output's lock (try again later, or --wait); "
    f"{EXIT_USAGE} bad usage or configuration (an unknown option, a config key or value, an output folder "
    "that is a file, holds an input or cannot be created); "
    f"{EXIT_NOTHING_READ} nothing usable (an input path does not exist, no input matched, or every capture "
    "was rejected); "
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
    parser.add_argument("--nothing-new-ok", action="store_true",
                        help=f"exit {EXIT_OK} instead of {EXIT_NOTHING_TO_DO} when every input is committed already "
                             "(for schedulers that take any other code for a failure)")
    parser.add_argument("--wait", action="store_true",
                        help="when another run holds the output's lock, wait for it instead of exiting "
                             f"with code {EXIT_LOCKED}")
    parser.set_defaults(handler=run_command, passes_beam_args=True)


def _timestamp(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not a date or time: {value!r}")
    return parsed


def _default_workers(files: int, cfg: dict, options) -> int:
    """Worker processes for a run without ``--workers``: by input size on the local engine (logged), else one
    (a cluster runner spreads the work itself)."""
    from apache_beam.options.pipeline_options import StandardOptions

    per_worker = cfg.get("run", {}).get("files_per_worker")
    if options.view_as(StandardOptions).runner != LOCAL_RUNNER or not per_worker:
        return 1
    workers = choose_workers(files, per_worker)
    LOG.info("%d worker process%s for %d files to read (one per %d files, at most one per core; --workers "
             "sets it)", workers, "" if workers == 1 else "es", files, per_worker)
    return workers


def _slices(files: list, cfg: dict, output: str):
    """The files to read, in slices that each make one pipeline (``captures.slices``)."""
    from array import array

    from pipeline.captures import read_limits
    from pipeline.captures.slices import slice_inputs
    from pipeline.output.key_index import KeyIndexSettings, committed_positions
    from pipeline.output.schema import ARTICLE_GLOB

    positions: dict[str, array] = {}
    looked = False

    def committed(path: str) -> array:  # the output is looked at once, when a file big enough to cut asks
        nonlocal positions, looked
        if not looked:
            positions = committed_positions(output, ARTICLE_GLOB, "article_id", KeyIndexSettings.from_config(cfg),
                                            {item.path for item in files})
            looked = True
        return positions.get(path, array("q"))

    run = cfg.get("run", {})
    return slice_inputs(files, read_limits(cfg["read"]), run.get("captures_per_pipeline", 0),
                        run.get("files_per_pipeline", 0), committed)


def _range(part) -> str:
    return f"from position {part.first}" + (f" to {part.end}" if part.end is not None else " to the end")


def run_command(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Run the batch job under the output's lock and report it; the exit code says how it went.

    The config, the Beam options and the paths are all checked first: a run refused at the door (exit 2
    or 3) has written nothing, not even the output folder.

    A SIGTERM or SIGINT stops it: what was committed stays committed (the ledger says which files), the
    summary is saved with status "stopped", and the exit code is 143.
    """
    from pipeline.cli.session import locked_job
    from pipeline.output.run_paths import NothingToRead, check_run_paths, create_output
    from pipeline.output.summary import RunSummary, new_run_id

    cfg = command_config(args)
    beam_options(args, beam_args)  # an unknown runner or Beam option ends the run here, not after planning
    try:
        paths = check_run_paths(args.input, args.output, args.follow_symlinks)
    except NothingToRead as error:
        print(f"newsbeam run: {error}", file=sys.stderr)
        return EXIT_NOTHING_READ
    create_output(paths.output)
    started = datetime.now(UTC)
    summary = RunSummary(new_run_id(started), pipeline_version(), paths.patterns, paths.output, started.isoformat())
    code, saved = locked_job(summary, args.wait, lambda fence: _run_locked(args, beam_args, cfg, summary,
                                                                           paths.listing, fence))
    if saved is None:
        return code
    if code == EXIT_NOTHING_TO_DO:
        print(f"newsbeam run: nothing to do: {summary.message}; --reprocess reads them again"
              f"{'' if args.nothing_new_ok else f' (--nothing-new-ok makes this exit 0, not {code})'}",
              file=sys.stderr)
        return EXIT_OK if args.nothing_new_ok else code
    if not args.quiet:
        from pipeline.output.summary import render

        print(render(summary))
        print(f"summary saved to {saved}")
    return code


def _run_locked(args: argparse.Namespace, beam_args: list[str], cfg: dict, summary, listing, fence) -> int:
    """Plan the listed input files against the ledger, run the pipeline if there is work, fill in the summary."""
    from pipeline.graph.batch import RunSpec, execute
    from pipeline.output.ledger import load_ledger, plan_inputs, report_skipped
    from pipeline.output.sink import join
    from pipeline.output.summary import file_tallies, fill_from_counters, merge_counts
    from pipeline.runtime.progress import ProgressMonitor

    files = listing.files
    plan = plan_inputs(files, load_ledger(summary.output), args.reprocess)
    summary.files_listed, summary.files_unchanged = plan.listed, plan.unchanged
    summary.files_skipped = report_skipped(listing.skipped)
    LOG.info("run %s: %d files listed, %d unchanged since committed, %d to read (%d changed)",
             summary.run_id, plan.listed, plan.unchanged, len(plan.to_read), len(plan.changed))
    if not plan.to_read:
        summary.status = "nothing to do"
        summary.message = (f"all {plan.listed} input files are committed already, unchanged (same size and time, "
                           "or same content)")
        return EXIT_NOTHING_TO_DO
    progress_dir = join(summary.output, f".progress-{summary.run_id}") if "://" not in summary.output else None
    show = bool(progress_dir) and not args.quiet and sys.stderr.isatty()
    workers = args.workers or _default_workers(len(plan.to_read), cfg, beam_options(args, beam_args))
    options, totals, earlier = beam_options(args, beam_args, workers), {}, {}
    with ProgressMonitor(progress_dir, len(plan.to_read), enabled=show) if progress_dir else nullcontext():
        for number, files in enumerate(_slices(plan.to_read, cfg, summary.output)):
            if number:
                # A finished pipeline's buffers sit in reference cycles until the next full collection; freed
                # now, the next slice reuses that memory instead of adding to it.
                gc.collect()
            LOG.info("pipeline %d: %d file%s%s", number + 1, len(files), "" if len(files) == 1 else "s",
                     f", captures {_range(files[0].part)}" if files[0].part else "")
            spec = RunSpec(files, summary.output, cfg, summary.run_id, summary.pipeline_version,
                           reprocess=args.reprocess, since=args.since, until=args.until,
                           progress_dir=progress_dir, fence=fence, earlier=earlier)
            counts = execute(spec, options)
            totals = merge_counts(totals, counts)
            part = files[0].part
            earlier = merge_counts(earlier, file_tallies(counts)) if part and not part.last else {}
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
