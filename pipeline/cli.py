"""``newsbeam``: the command line. Each command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import os
import sys

from pipeline import batch, compact, evaluate, history, query, report, stream
from pipeline.arguments import UsageError, add_logging_arguments, check_beam_arguments, did_you_mean
from pipeline.config import ConfigError, pipeline_version
from pipeline.fast_exit import exit_without_collecting
from pipeline.logs import configure_logging
from pipeline.options import EXIT_USAGE

# Modules with a ``register(subparsers)`` function; each sets ``handler`` (and ``passes_beam_args``
# when unknown options are Beam's) on its parser.
COMMANDS = [batch, compact, evaluate, history, query, report, stream]
# What a shell reports for a program ended by a closed pipe (128 + SIGPIPE), as `yes | head` does.
EXIT_CLOSED_PIPE = 141


class _OneLineErrors(argparse.ArgumentParser):
    """A parser whose usage errors are one line naming the command and the word, and a pointer to --help."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(
        prog="newsbeam",
        description="Turn raw news captures (HTML, WARC, JSONL, text) into clean, enriched, "
                    "Hive-partitioned Parquet that DuckDB reads directly.",
        epilog="Run 'newsbeam COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"newsbeam {pipeline_version()}")
    add_logging_arguments(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(commands)
    for command in commands.choices.values():
        add_logging_arguments(command, default=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
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
    except (UsageError, ConfigError) as error:
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


if __name__ == "__main__":
    entry()
