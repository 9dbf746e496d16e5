"""Command-line options of ``newsbeam run`` and their translation into Beam pipeline options."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from pipeline.captures import read_limits
from pipeline.config import (
    ConfigError,
    beam_flags,
    beam_option_names,
    check_runner,
    did_you_mean,
    load_beam_options,
    load_run_config,
    unknown_beam_options,
)

# The bare DirectRunner first tries to download a Prism binary, which hangs on a network that accepts
# connections but never answers; the FnApiRunner is the same local engine without that step.
LOCAL_RUNNER = "FnApiRunner"
# The same engine with N worker processes, started so that they log like newsbeam (pipeline/runtime/local_runner.py).
MULTI_PROCESS_RUNNER = "pipeline.runtime.local_runner.MultiProcessRunner"

# Exit codes a scheduler can act on. 75 is sysexits' EX_TEMPFAIL ("try again later"); 99 is the code
# Airflow's BashOperator treats as "skipped" by default.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOTHING_READ, EXIT_REJECTED = 0, 1, 2, 3, 4
EXIT_LOCKED, EXIT_NOTHING_TO_DO = 75, 99
EXIT_STOPPED = 143  # 128 + SIGTERM, as a shell reports a process ended by it


class UsageError(ValueError):
    """A command line that cannot be run as asked; the message says what and where."""


def check_beam_arguments(words: list[str], own_options: Iterable[str]) -> None:
    """Raise a UsageError for the first word of ``words`` (what newsbeam's parser left over) that is not a
    Beam pipeline option or its value; ``own_options`` (the command's options) feed the suggestion.

    Beam's own parser only warns about a word it does not know ("Unparseable argument") and runs on, so a
    misspelt ``--entites off`` would run with entities on and exit 0.
    """
    if not words:
        return
    try:
        unknown = unknown_beam_options(words)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not unknown:
        return
    word = unknown[0]
    if not word.startswith("-"):
        raise UsageError(f"unexpected argument {word!r}: several paths go after one --input (quote a glob "
                         "to let newsbeam expand it), and an option's value right after its name")
    name = word.split("=", 1)[0]
    hint = did_you_mean(name, [*own_options, *beam_option_names()])
    raise UsageError(f"unknown option {name}{hint}; engine-only flags go through --engine-flag")


def add_logging_arguments(parser: argparse.ArgumentParser, default: object = None) -> None:
    """``--log-format`` and ``--log-level``, accepted before the command and after it alike."""
    parser.add_argument("--log-format", choices=("text", "json"), default=default or "text",
                        help="log lines as text (default) or as one JSON object per line, for log collectors")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper,
                        default=default, help="log level (default INFO, WARNING with a command's --quiet)")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", "-i", action="extend", nargs="+", required=True, metavar="PATTERN",
                        help="capture files: globs ('captures/**'), folders (read recursively) or files; several "
                             "may follow one --input (an unquoted glob the shell expanded) or --input may repeat. "
                             "Local paths or any filesystem Beam knows (gs://, s3://).")
    parser.add_argument("--output", "-o", required=True, metavar="DIR",
                        help="output folder: date=YYYY-MM-DD/section=<slug>/*.parquet, _rejected/, _runs/")
    parser.add_argument("--config", "-c", metavar="YAML",
                        help="run configuration (default: configs/local.yaml of this checkout)")
    parser.add_argument("--workers", "-w", type=positive_int, metavar="N",
                        help="local worker processes (the local engine's multi-processing mode); default: one per "
                             "run.files_per_worker files to read, at most one per core (the choice is logged)")
    parser.add_argument("--runner",
                        help=f"Beam runner (default: the config's beam_options, else {LOCAL_RUNNER}, the local "
                             "engine; e.g. PortableRunner, DataflowRunner). Beam's pipeline options (--job_endpoint"
                             "=..., --environment_type=...) may follow and override the config's beam_options; an "
                             "option neither newsbeam nor Beam knows is refused")
    parser.add_argument("--engine-flag", action="append", default=[], metavar="FLAG",
                        help="a flag only the engine knows, passed to the runner unchecked, e.g. "
                             "--engine-flag=--checkpointing_interval=60000 (repeat for several)")
    parser.add_argument("--entities", choices=("on", "off"),
                        help="named-entity recognition (overrides the config's entities.enabled)")
    add_follow_symlinks(parser)
    parser.add_argument("--fail-on-reject", action="store_true",
                        help=f"exit with code {EXIT_REJECTED} when any capture was rejected")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only warnings and errors")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def add_follow_symlinks(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--follow-symlinks", action="store_true",
                        help="read symlinks whose target lies outside the input folders (by default they are "
                             "skipped and counted: on a shared drop folder a link could expose any readable file)")


def beam_options(args: argparse.Namespace, beam_args: list[str], workers: int | None = None) -> PipelineOptions:
    """Beam options for a run: the config's ``beam_options``, overridden by the command line.

    The config's options are read here from ``args.config`` (not passed in) so that every command
    taking ``--config`` gets the same options. Later flags win in Beam's parser, so the config's flags
    go first, then the pass-through arguments, then ``--runner``; engine-only flags (``--engine-flag``)
    last, unchecked. The runner is checked here, before anything runs. ``workers`` (local worker
    processes) defaults to ``--workers``, else one.
    """
    workers = workers or getattr(args, "workers", None) or 1
    flags = [*beam_flags(load_beam_options(args.config)), *beam_args]
    if args.runner:
        flags.append(f"--runner={args.runner}")
    options = PipelineOptions([*flags, *getattr(args, "engine_flag", [])], save_main_session=False)
    standard = options.view_as(StandardOptions)
    standard.runner = standard.runner or LOCAL_RUNNER
    try:
        check_runner(standard.runner)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if workers > 1:
        if standard.runner == LOCAL_RUNNER:
            standard.runner = MULTI_PROCESS_RUNNER
        direct = options.view_as(DirectOptions)
        direct.direct_num_workers, direct.direct_running_mode = workers, "multi_processing"
    return options


def command_config(args: argparse.Namespace) -> dict:
    """The run config named by ``--config`` with ``--entities`` applied; raises ConfigError."""
    cfg = load_run_config(args.config)
    try:
        read_limits(cfg["read"])  # each limit a field of ReadLimits, which refuses a name it lacks
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{args.config or 'the default config'}: read limits: {error}") from error
    if getattr(args, "entities", None):
        cfg["entities"]["enabled"] = args.entities == "on"
    return cfg


def choose_workers(files: int, files_per_worker: int, cores: int | None = None) -> int:
    """Local worker processes for ``files`` input files: one per ``files_per_worker`` files, at most one per
    core. Each process loads the rules, gazetteer and NER model before its first capture, so a handful of
    files is read fastest by one process and a large input by every core."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(cores, files // max(files_per_worker, 1)))


def add_output_folder(parser: argparse.ArgumentParser) -> None:
    """The ``--output`` of the commands that read an output folder."""
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="a newsbeam output folder")


def output_exists(output: str) -> bool:
    """True for an existing local folder or any URL; otherwise says so on stderr."""
    if "://" in output or os.path.isdir(output):
        return True
    print(f"newsbeam: no output folder at {output}", file=sys.stderr)
    return False
