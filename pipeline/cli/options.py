"""Command-line options of ``newsbeam run`` and their translation into Beam pipeline options."""

from __future__ import annotations

import argparse
import os
import sys

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from pipeline.config import beam_flags, load_beam_options, load_run_config

# The bare DirectRunner first tries to download a Prism binary, which hangs on a network that accepts
# connections but never answers; the FnApiRunner is the same local engine without that step.
LOCAL_RUNNER = "FnApiRunner"
# The same engine with N worker processes, started so that they log like newsbeam (pipeline/runtime/local_runner.py).
MULTI_PROCESS_RUNNER = "pipeline.runtime.local_runner.MultiProcessRunner"

# Exit codes a scheduler can act on. 75 is sysexits' EX_TEMPFAIL ("try again later"); 99 is the code
# Airflow's BashOperator treats as "skipped" by default.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOTHING_READ, EXIT_REJECTED = 0, 1, 2, 3, 4
EXIT_LOCKED, EXIT_NOTHING_TO_DO = 75, 99


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
    parser.add_argument("--runner",
                        help=f"Beam runner (default: the config's beam_options, else {LOCAL_RUNNER}, the local "
                             "engine; e.g. PortableRunner, DataflowRunner). Unknown options after the known ones "
                             "pass to Beam unchanged and override the config's beam_options, e.g. "
                             "--job_endpoint=... --environment_type=...")
    parser.add_argument("--entities", choices=("on", "off"),
                        help="named-entity recognition (overrides the config's entities.enabled)")
    parser.add_argument("--fail-on-reject", action="store_true",
                        help=f"exit with code {EXIT_REJECTED} when any capture was rejected")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only warnings and errors")


def beam_options(args: argparse.Namespace, beam_args: list[str]) -> PipelineOptions:
    """Beam options for a run: the config's ``beam_options``, overridden by the command line.

    The config's options are read here from ``args.config`` (not passed in) so that every command
    taking ``--config`` gets the same options. Later flags win in Beam's parser, so the config's flags
    go first, then the pass-through arguments, then ``--runner``.
    """
    flags = [*beam_flags(load_beam_options(args.config)), *beam_args]
    if args.runner:
        flags.append(f"--runner={args.runner}")
    options = PipelineOptions(flags, save_main_session=False)
    standard = options.view_as(StandardOptions)
    standard.runner = standard.runner or LOCAL_RUNNER
    if args.workers > 1:
        if standard.runner == LOCAL_RUNNER:
            standard.runner = MULTI_PROCESS_RUNNER
        direct = options.view_as(DirectOptions)
        direct.direct_num_workers, direct.direct_running_mode = args.workers, "multi_processing"
    return options


def command_config(args: argparse.Namespace) -> dict:
    """The run config named by ``--config`` with ``--entities`` applied; raises ConfigError."""
    cfg = load_run_config(args.config)
    if getattr(args, "entities", None):
        cfg["entities"]["enabled"] = args.entities == "on"
    return cfg


def expand_input(pattern: str) -> str:
    """A folder means every file below it; anything else is taken as a glob or a path."""
    if "://" not in pattern and os.path.isdir(pattern):
        return os.path.join(os.path.abspath(pattern), "**")
    return os.path.abspath(pattern) if "://" not in pattern else pattern


def add_output_folder(parser: argparse.ArgumentParser) -> None:
    """The ``--output`` of the commands that read an output folder."""
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="a newsbeam output folder")


def output_exists(output: str) -> bool:
    """True for an existing local folder or any URL; otherwise says so on stderr."""
    if "://" in output or os.path.isdir(output):
        return True
    print(f"newsbeam: no output folder at {output}", file=sys.stderr)
    return False
