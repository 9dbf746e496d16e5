"""``newsbeam stream``: pick up captures as they land, committed in small atomic batches.

Locally there is no unbounded Beam runner for Python (the DirectRunner reads ``MatchContinuously`` as
a bounded burst; Prism must be downloaded), so this is a micro-batch loop around the batch graph: list
the watched folder, run the batch graph over the files the ledger has not committed, repeat. The
ledger is the checkpoint: it is written after a batch's articles and rejections, so a job killed in the
middle of a batch re-reads that batch on restart, and the capture's rows are superseded, not doubled.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.cli.options import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    LOCAL_RUNNER,
    add_follow_symlinks,
    beam_options,
    command_config,
)
from pipeline.config import ConfigError, pipeline_version
from pipeline.output.run_paths import absolute, output_folder
from pipeline.output.summary import RunSummary, fill_from_counters, merge_counts, new_run_id, save
from pipeline.output.views import write_views
from transforms.dates import parse_datetime

LOG = logging.getLogger("newsbeam")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}
# Files that hold many captures and have no sidecar: never held back waiting for one.
_MANY_CAPTURE_SUFFIXES = tuple(f"{kind}{gz}" for kind in (".warc", ".jsonl", ".ndjson") for gz in ("", ".gz"))


def duration(text: str) -> float:
    """Seconds in ``10``, ``10s``, ``500ms``, ``2m`` or ``1h``."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 10s, 500ms, 2m)")
    return float(match[1]) * _UNIT_SECONDS[match[2]]


def deadline(text: str) -> datetime:
    """``--until``: a duration from now (``90s``) or a date/time (UTC unless it says otherwise)."""
    try:
        return datetime.now(UTC) + timedelta(seconds=duration(text))
    except argparse.ArgumentTypeError:
        parsed = parse_datetime(text)
        if parsed is None:
            raise argparse.ArgumentTypeError(f"not a duration or a time: {text!r}") from None
        return parsed


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "stream", help="watch a folder and commit new captures in small batches",
        description="Pick up captures dropped into --watch while running and commit them in small atomic "
                    "batches into the same layout as `newsbeam run`. Drop convention: write a file under a "
                    "name starting with '.' or ending in .tmp/.part, then rename it; such names are ignored. "
                    "SIGINT/SIGTERM finish the batch in flight, save the summary and exit 0.")
    parser.add_argument("--watch", "-i", metavar="DIR",
                        help="folder (or glob) to watch (required, except with --engine and a Pub/Sub config)")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="output folder, as for `newsbeam run`")
    parser.add_argument("--interval", type=duration, default=duration("10s"), metavar="DURATION",
                        help="how often to look for new files (default 10s)")
    parser.add_argument("--sidecar-wait", type=duration, default=duration("10s"), metavar="DURATION",
                        help="how long a page without a .meta.json sidecar waits for one before it is read "
                             "(default 10s); a sidecar landing later still replaces the page's row")
    add_follow_symlinks(parser)
    parser.add_argument("--max-files", type=int, default=500, metavar="N",
                        help="at most this many files per batch (the rest wait for the next; default 500)")
    parser.add_argument("--max-batches", type=int, metavar="N", help="stop after committing N batches")
    parser.add_argument("--until", type=deadline, metavar="WHEN",
                        help="stop at WHEN: a duration from now (90s, 5m) or a date/time")
    parser.add_argument("--config", "-c", metavar="YAML", help="run configuration (default configs/local.yaml)")
    parser.add_argument("--entities", choices=("on", "off"), help="named-entity recognition on or off")
    parser.add_argument("--wait", action="store_true", help="wait for another run's lock instead of exiting")
    parser.add_argument("--runner", help=f"Beam runner for each batch (default {LOCAL_RUNNER}); Beam's pipeline "
                             "options may follow, an option neither newsbeam nor Beam knows is refused")
    parser.add_argument("--engine-flag", action="append", default=[], metavar="FLAG",
                        help="a flag only the engine knows, passed to the runner unchecked (repeat for several)")
    parser.add_argument("--engine", action="store_true",
                        help="submit the unbounded graph (file watch or Pub/Sub, fixed windows) to the runner of a "
                             "streaming config such as configs/stream-flink.yaml, instead of the local loop")
    parser.add_argument("--quiet", "-q", action="store_true", help="no status lines")
    parser.set_defaults(handler=stream_command, passes_beam_args=True, workers=1)


@dataclass
class StreamStatus:
    """Running totals of a stream session, for the live status line and the saved summary."""

    started: float
    batches: int = 0
    captures: int = 0
    articles: int = 0
    rejected: int = 0
    duplicates: int = 0

    def add(self, totals: dict[str, int]) -> None:
        self.batches += 1
        self.captures += totals.get("captures_read", 0)
        self.articles += totals.get("articles_written", 0)
        self.rejected += totals.get("rejected", 0)
        self.duplicates += totals.get("articles_duplicates_in_run", 0) + totals.get("articles_already_committed", 0)

    def line(self, lag: float | None, batch_seconds: float) -> str:
        rate = self.captures / max(time.monotonic() - self.started, 1e-9)
        lag_text = f"{lag:.1f}s" if lag is not None else "none"
        return (f"batches {self.batches} | captures {self.captures} ({rate:.2f}/s) | articles {self.articles} | "
                f"duplicates {self.duplicates} | rejected {self.rejected} | last batch {batch_seconds:.1f}s | "
                f"lag {lag_text}")


def stream_command(args: argparse.Namespace, beam_args: list[str]) -> int:
    from pipeline.output.lock import LockHeld, OutputLock

    try:
        cfg = command_config(args)
    except ConfigError as error:
        print(f"newsbeam: {error}", file=sys.stderr)
        return EXIT_USAGE
    output = output_folder(args.output)
    beam_options(args, beam_args)  # an unknown runner or Beam option ends the command here
    if args.engine:
        return _submit_to_engine(args, beam_args, cfg, output)
    if not args.watch:
        print("newsbeam: stream needs --watch DIR (or --engine with a streaming config)", file=sys.stderr)
        return EXIT_USAGE
    started = datetime.now(UTC)
    summary = RunSummary(new_run_id(started), pipeline_version(), [absolute(args.watch)], output,
                         started.isoformat(), status="streaming")
    stop = _stop_on_signals()
    try:
        with OutputLock(output, summary.run_id, wait=args.wait) as lock:
            code = _loop(args, beam_args, cfg, summary, stop, lock.fence)
    except LockHeld as held:
        print(f"newsbeam: {held}", file=sys.stderr)
        return EXIT_LOCKED
    summary.exit_code = code
    save(summary)
    if not args.quiet:
        print(f"stream {summary.run_id} {summary.status}: {summary.message}")
    return code


def _submit_to_engine(args: argparse.Namespace, beam_args: list[str], cfg: dict, output: str) -> int:
    """Run the unbounded graph on the config's runner until the engine ends it or SIGINT/SIGTERM cancels it.

    As for ``newsbeam run``: under the output's lock (exit 75 while another run holds it, or ``--wait``),
    with a summary in ``_runs/`` (status and exit code; the figures are the engine's, in its own metrics)
    and fresh views when it ends, however it ends. A cancelled job is "stopped" and exits 0, like the local
    loop. An output at a URL (a cluster's gs://) is not locked: the lock needs a local filesystem.
    """
    import apache_beam as beam
    from apache_beam.runners.runner import PipelineState

    from pipeline.cli.session import Stopped, locked_job
    from pipeline.graph.streaming import build_streaming_pipeline, stream_settings

    try:
        settings = stream_settings(cfg)
    except ConfigError as error:
        print(f"newsbeam: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.watch:
        cfg["stream"]["watch"] = absolute(args.watch)
    options = beam_options(args, [*settings.runner_flags, *beam_args])
    started = datetime.now(UTC)
    source = cfg["stream"].get("watch") or settings.subscription or settings.topic
    summary = RunSummary(new_run_id(started), pipeline_version(), [f"{settings.source}:{source}"], output,
                         started.isoformat(), status="streaming")

    def submit(_fence) -> int:  # the engine's writers commit by atomic renames; no batch commit to fence
        pipeline = beam.Pipeline(options=options)
        build_streaming_pipeline(pipeline, cfg, output, summary.run_id, summary.pipeline_version)
        result = None
        try:
            LOG.info("stream %s: submitting the streaming job into %s", summary.run_id, output)
            result = pipeline.run()  # some runners (the local DirectRunner) run the job here, not in the wait
            state = result.wait_until_finish()
        except Stopped as stopped:
            LOG.warning("stream %s %s: the job is cancelled", summary.run_id, stopped)
            if result is not None:
                result.cancel()
            summary.status, summary.message = "stopped", f"{stopped}; the job was cancelled"
            return EXIT_OK
        summary.message = f"the engine ended the job in state {state}"
        summary.status = "succeeded" if state == PipelineState.DONE else "failed"
        return EXIT_OK if state == PipelineState.DONE else EXIT_FAILED

    code, _ = locked_job(summary, args.wait, submit)
    if not args.quiet and code != EXIT_LOCKED:
        print(f"stream {summary.run_id} {summary.status}: {summary.message}")
    return code


def _stop_on_signals() -> threading.Event:
    """SIGINT and SIGTERM set the returned event; the batch in flight is finished, not interrupted."""
    stop = threading.Event()

    def request_stop(signum, _frame):
        LOG.info("received %s: finishing the batch in flight", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


def _loop(args: argparse.Namespace, beam_args: list[str], cfg: dict, summary: RunSummary,
          stop: threading.Event, fence) -> int:
    from pipeline.graph.batch import RunSpec, execute
    from pipeline.output.ledger import LedgerCache, list_inputs, plan_inputs, report_skipped

    ledger, status, totals, skipped = LedgerCache(summary.output), StreamStatus(time.monotonic()), {}, {}
    options = beam_options(args, beam_args)
    while not stop.is_set() and not _finished(args, status):
        looked = time.monotonic()
        listing = list_inputs(summary.inputs, args.follow_symlinks, exclude=summary.output)
        if listing.skipped != skipped:  # reported once, not on every look
            summary.files_skipped, skipped = report_skipped(listing.skipped), listing.skipped
        plan = plan_inputs(listing.files, ledger.refresh(), reprocess=False)
        ready = [item for item in plan.to_read if not awaits_sidecar(item, args.sidecar_wait)]
        batch, waiting = ready[: args.max_files], ready[args.max_files:]
        if batch:
            clock = time.monotonic()
            spec = RunSpec(batch, summary.output, cfg, new_run_id(datetime.now(UTC)), summary.pipeline_version,
                           fence=fence)
            try:
                counters = execute(spec, options)
            except Exception as error:
                LOG.exception("batch %s failed", spec.run_id)
                summary.status, summary.message = "failed", f"{type(error).__name__}: {error}"
                return EXIT_FAILED
            status.add(counters)
            totals = merge_counts(totals, counters)
            fill_from_counters(summary, totals)
            summary.seconds = round(time.monotonic() - status.started, 3)
            save(summary)
            write_views(summary.output)
            lag = time.time() - min(f.mtime for f in waiting) if waiting else None
            if not args.quiet:
                print(status.line(lag, time.monotonic() - clock), file=sys.stderr, flush=True)
            if waiting:
                continue
        # The interval runs from the start of a look: a batch's own time is not added to the next one's wait.
        stop.wait(max(0.0, args.interval - (time.monotonic() - looked)))
    summary.status = "stopped"
    summary.message = f"{status.batches} batches, {status.captures} captures, {status.articles} articles"
    summary.seconds = round(time.monotonic() - status.started, 3)
    return EXIT_OK


def awaits_sidecar(item, wait: float) -> bool:
    """A page or text file without a sidecar, younger than ``wait`` seconds: its sidecar may be on the way.

    Crawlers write the page, then its ``.meta.json``; reading the page at once would commit it without
    its URL, section and dates (a sidecar landing later still replaces the row, see ``ledger``).
    """
    return (item.sidecar is None and not item.path.lower().endswith(_MANY_CAPTURE_SUFFIXES)
            and time.time() - item.mtime < wait)


def _finished(args: argparse.Namespace, status: StreamStatus) -> bool:
    if args.max_batches is not None and status.batches >= args.max_batches:
        return True
    return args.until is not None and datetime.now(UTC) >= args.until
