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
    beam_options,
    command_config,
    expand_input,
)
from pipeline.config import ConfigError, pipeline_version
from pipeline.output.summary import RunSummary, fill_from_counters, merge_counts, new_run_id, save
from pipeline.output.views import write_views
from transforms.dates import parse_datetime

LOG = logging.getLogger("newsbeam")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}


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
    parser.add_argument("--max-files", type=int, default=500, metavar="N",
                        help="at most this many files per batch (the rest wait for the next; default 500)")
    parser.add_argument("--max-batches", type=int, metavar="N", help="stop after committing N batches")
    parser.add_argument("--until", type=deadline, metavar="WHEN",
                        help="stop at WHEN: a duration from now (90s, 5m) or a date/time")
    parser.add_argument("--config", "-c", metavar="YAML", help="run configuration (default configs/local.yaml)")
    parser.add_argument("--entities", choices=("on", "off"), help="named-entity recognition on or off")
    parser.add_argument("--wait", action="store_true", help="wait for another run's lock instead of exiting")
    parser.add_argument("--runner", help=f"Beam runner for each batch (default {LOCAL_RUNNER})")
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
    output = expand_input(args.output).rstrip("/*")
    if args.engine:
        return _submit_to_engine(args, beam_args, cfg, output)
    if not args.watch:
        print("newsbeam: stream needs --watch DIR (or --engine with a streaming config)", file=sys.stderr)
        return EXIT_USAGE
    started = datetime.now(UTC)
    summary = RunSummary(new_run_id(started), pipeline_version(), [expand_input(args.watch)], output,
                         started.isoformat(), status="streaming")
    stop = _stop_on_signals()
    try:
        with OutputLock(output, summary.run_id, wait=args.wait):
            code = _loop(args, beam_args, cfg, summary, stop)
    except LockHeld as held:
        print(f"newsbeam: {held}", file=sys.stderr)
        return EXIT_LOCKED
    summary.exit_code = code
    save(summary)
    if not args.quiet:
        print(f"stream {summary.run_id} {summary.status}: {summary.message}")
    return code


def _submit_to_engine(args: argparse.Namespace, beam_args: list[str], cfg: dict, output: str) -> int:
    """Run the unbounded graph on the config's runner until the engine stops it."""
    import apache_beam as beam

    from pipeline.graph.streaming import build_streaming_pipeline, stream_settings

    try:
        settings = stream_settings(cfg)
    except ConfigError as error:
        print(f"newsbeam: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.watch:
        cfg["stream"]["watch"] = expand_input(args.watch)
    options = beam_options(args, [*settings.runner_flags, *beam_args])
    pipeline = beam.Pipeline(options=options)
    build_streaming_pipeline(pipeline, cfg, output, new_run_id(datetime.now(UTC)), pipeline_version())
    result = pipeline.run()
    LOG.info("submitted the streaming job; state %s", result.state)
    result.wait_until_finish()
    return EXIT_OK


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
          stop: threading.Event) -> int:
    from pipeline.graph.batch import RunSpec, execute
    from pipeline.output.ledger import LedgerCache, list_inputs, plan_inputs

    ledger, status, totals = LedgerCache(summary.output), StreamStatus(time.monotonic()), {}
    options = beam_options(args, beam_args)
    while not stop.is_set() and not _finished(args, status):
        files = list_inputs(summary.inputs)
        plan = plan_inputs(files, ledger.refresh(), reprocess=False)
        batch = plan.to_read[: args.max_files]
        if batch:
            clock = time.monotonic()
            spec = RunSpec(batch, summary.output, cfg, new_run_id(datetime.now(UTC)), summary.pipeline_version)
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
            waiting = plan.to_read[args.max_files:]
            lag = time.time() - min(f.mtime for f in waiting) if waiting else None
            if not args.quiet:
                print(status.line(lag, time.monotonic() - clock), file=sys.stderr, flush=True)
            if waiting:
                continue
        stop.wait(args.interval)
    summary.status = "stopped"
    summary.message = f"{status.batches} batches, {status.captures} captures, {status.articles} articles"
    summary.seconds = round(time.monotonic() - status.started, 3)
    return EXIT_OK


def _finished(args: argparse.Namespace, status: StreamStatus) -> bool:
    if args.max_batches is not None and status.batches >= args.max_batches:
        return True
    return args.until is not None and datetime.now(UTC) >= args.until
