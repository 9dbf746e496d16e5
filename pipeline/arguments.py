"""Every word of a command line accounted for: newsbeam's own options, Beam's registered pipeline options,
and engine-only flags given explicitly; anything else is refused with a suggestion.

Beam's own parser only warns about a word it does not know ("Unparseable argument") and runs on, so a
misspelt ``--entites off`` would run with entities on and exit 0. Here such a word ends the command with
exit 2 before anything is read or written.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
from collections.abc import Iterable
from functools import cache

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, _BeamArgumentParser


class UsageError(ValueError):
    """A command line or configuration that cannot be run as asked; the message says what and where."""


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean --x?)`` for the closest of ``known`` to ``word``, or ``""``."""
    close = difflib.get_close_matches(word, sorted(set(known)), n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


class _RefusingParser(_BeamArgumentParser):
    """Beam's option parser, raising on a bad value instead of printing usage and exiting."""

    def error(self, message: str):
        raise UsageError(message)


@cache
def _beam_parser() -> _RefusingParser:
    """A parser of every pipeline option registered with Beam (as ``PipelineOptions.get_all_options``
    builds it): Beam's own, and those of runner modules imported so far."""
    parser = _RefusingParser(allow_abbrev=False, add_help=False)
    for cls in {str(cls): cls for cls in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)  # noqa: SLF001 - the registry Beam itself reads
    return parser


def beam_option_names() -> list[str]:
    """``--flag`` names of every registered Beam pipeline option."""
    return [name for name in _beam_parser()._option_string_actions if name.startswith("--")]


def unknown_beam_options(flags: list[str]) -> list[str]:
    """The words of ``flags`` that are no registered Beam option nor an option's value; raises a UsageError
    for a known option with a bad value."""
    try:
        return _beam_parser().parse_known_args(flags)[1]
    except UsageError as error:
        raise UsageError(f"Beam option: {error}") from None


def check_beam_arguments(words: list[str], own_options: Iterable[str]) -> None:
    """Raise a UsageError for the first word of ``words`` (what newsbeam's parser left over) that is not a
    Beam pipeline option or its value; ``own_options`` (the command's options) feed the suggestion."""
    if not words:
        return
    unknown = unknown_beam_options(words)
    if not unknown:
        return
    word = unknown[0]
    if not word.startswith("-"):
        raise UsageError(f"unexpected argument {word!r}: several paths go after one --input (quote a glob "
                         "to let newsbeam expand it), and an option's value right after its name")
    name = word.split("=", 1)[0]
    hint = did_you_mean(name, [*own_options, *beam_option_names()])
    raise UsageError(f"unknown option {name}{hint}; engine-only flags go through --engine-flag")


def check_runner(name: str) -> None:
    """Raise a UsageError unless ``name`` is a runner Beam knows, or an importable runner class."""
    known = {runner.lower() for runner in StandardOptions.KNOWN_RUNNER_NAMES}
    if name.lower() in known or f"{name.lower()}runner" in known:
        return
    if "." in name:
        module, _, attribute = name.rpartition(".")
        try:
            if isinstance(getattr(importlib.import_module(module), attribute), type):
                return
        except (ImportError, AttributeError):
            pass
        raise UsageError(f"runner {name}: no such runner class could be imported")
    hint = did_you_mean(name, StandardOptions.KNOWN_RUNNER_NAMES)
    raise UsageError(f"unknown runner {name}{hint}; known: {', '.join(StandardOptions.KNOWN_RUNNER_NAMES)}")


def add_logging_arguments(parser: argparse.ArgumentParser, default: object = None) -> None:
    """``--log-format`` and ``--log-level``, accepted before the command and after it alike."""
    parser.add_argument("--log-format", choices=("text", "json"), default=default or "text",
                        help="log lines as text (default) or as one JSON object per line, for log collectors")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper,
                        default=default, help="log level (default INFO, WARNING with a command's --quiet)")
