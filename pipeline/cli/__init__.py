"""``newsbeam``: the command line, one module per command, named after it, each with a ``register(subparsers)``.

A command parses its options, calls ``graph``, ``output``, ``analyst`` or ``runtime`` and turns the outcome
into an exit code; what two commands share lives in ``options`` (their options) or ``session`` (a job under the
output's lock, ending in a saved summary) here, or in those packages, never in another command. Nothing
outside this package imports it; ``eval`` alone imports ``quality``. Commands are imported when the parser
is built, after ``prepare_process`` has set up the process.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from pipeline.runtime.fast_exit import exit_without_collecting
from pipeline.runtime.logs import configure_logging
from pipeline.runtime.process import prepare_process

# Modules of this package with a ``register(subparsers)`` function; each sets ``handler`` (and
# ``passes_beam_args`` when unknown options are Beam's) on its parser.
COMMANDS = ("run", "compact", "eval", "runs", "sql", "shell", "report", "stream")
EXIT_USAGE = 2  # pipeline.cli.options.EXIT_USAGE (that module loads Beam: imported after prepare_process)
# What a shell reports for a program ended by a closed pipe (128 + SIGPIPE), as `yes | head` does.
EXIT_CLOSED_PIPE = 141


class _OneLineErrors(argparse.ArgumentParser):
    """A parser whose usage errors are one line naming the command and the word, and a pointer to --help."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from pipeline.cli.options import add_logging_arguments
    from pipeline.config import pipeline_version

    parser = _OneLineErrors(
        prog="newsbeam",
        description="Turn raw news captures (HTML, WARC, JSONL, text) into clean, enriched, "
                    "Hive-partitioned Parquet that DuckDB reads directly.",
        epilog="Run 'newsbeam COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"newsbeam {pipeline_version()}")
    add_logging_arguments(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(commands)
    for command in commands.choices.values():
        add_logging_arguments(command, default=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    prepare_process()
    from pipeline.cli.options import UsageError, check_beam_arguments
    from pipeline.config import ConfigError, did_you_mean
    from pipeline.output.run_paths import PathRefused

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    command = _subparser(parser, args.command)
    try:
        if getattr(args, "passes_beam_args", False):
            check_beam_arguments(extra, command._option_string_actions)
        elif extra:
            word = extra[0].split("=", 1)[0]
            hint = did_you_mean(word, command._option_string_actions) if word.startswith("-") else ""
            raise UsageError(f"unrecognized argument {word}{hint}")
    except UsageError as error:
        command.error(str(error))
    configure_logging(args.log_format, args.log_level or ("WARNING" if getattr(args, "quiet", False) else "INFO"))
    try:
        return args.handler(args, extra)
    except (UsageError, ConfigError, PathRefused) as error:
        print(f"newsbeam {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return commands.choices[name]


def entry() -> None:
    """The ``newsbeam`` program (``main`` is for callers in a Python process that goes on).

    A reader that stops early (``newsbeam sql ... | head``) ends the program quietly, as it ends any
    Unix tool, rather than with a traceback.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit's own flush must not fail
        code = EXIT_CLOSED_PIPE
    exit_without_collecting(code)

