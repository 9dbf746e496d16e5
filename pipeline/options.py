"""Command-line options of ``newsbeam run`` and their translation into Beam pipeline options."""

from __future__ import annotations

import argparse
import os

from apache_beam.options.pipeline_options import PipelineOptions

# The bare DirectRunner first tries to download a Prism binary, which hangs on a network that accepts
# connections but never answers; the FnApiRunner is the same local engine without that step.
LOCAL_RUNNER = "FnApiRunner"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOTHING_READ, EXIT_REJECTED = 0, 1, 2, 3, 4


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", "-i", action="append", required=True, metavar="PATTERN",
                        help="capture files: a glob ('captures/**'), a folder (read recursively) or a file; "
                             "repeat for several. Local paths or any filesystem Beam knows (gs://, s3://).")
    parser.add_argument("--output", "-o", required=True, metavar="DIR",
                        help="output folder: date=YYYY-MM-DD/section=<slug>/*.parquet, _rejected/, _runs/")
    parser.add_argument("--config", "-c", metavar="YAML",
                        help="run configuration (default: configs/local.yaml of this checkout)")
    parser.add_argument("--workers", "-w", type=int, default=1, metavar="N",
                        help="local worker processes (DirectRunner multi-processing mode); default 1")
    parser.add_argument("--runner", default=LOCAL_RUNNER,
                        help=f"Beam runner (default {LOCAL_RUNNER}, the local engine; e.g. PortableRunner, "
                             "FlinkRunner, SparkRunner, DataflowRunner). Unknown options after the known ones "
                             "pass to Beam unchanged, e.g. --job_endpoint=... --environment_type=...")
    parser.add_argument("--entities", choices=("on", "off"),
                        help="named-entity recognition (overrides the config's entities.enabled)")
    parser.add_argument("--fail-on-reject", action="store_true",
                        help=f"exit with code {EXIT_REJECTED} when any capture was rejected")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only warnings and errors")


def beam_options(args: argparse.Namespace, beam_args: list[str]) -> PipelineOptions:
    """Beam options for a run: the runner, local parallelism, and everything the user passed through."""
    options: dict = {"runner": args.runner, "save_main_session": False}
    if args.workers > 1:
        options.update(direct_num_workers=args.workers, direct_running_mode="multi_processing")
    return PipelineOptions(beam_args, **options)


def expand_input(pattern: str) -> str:
    """A folder means every file below it; anything else is taken as a glob or a path."""
    if "://" not in pattern and os.path.isdir(pattern):
        return os.path.join(os.path.abspath(pattern), "**")
    return os.path.abspath(pattern) if "://" not in pattern else pattern
