"""The inputs and output of a run, checked before anything is written: a run refused here leaves no trace.

A missing input path is named as missing (exit 3, like an input with nothing in it); an output that is a
file, that holds an input, or that cannot be created is a usage error (exit 2). An output folder inside
an input folder is left out of the input listing, so a run never reads its own Parquet files, views or
run records back as captures.
"""

from __future__ import annotations

import glob
import logging
import os
from dataclasses import dataclass

from pipeline.captures import is_within
from pipeline.output.ledger import Listing, list_inputs

LOG = logging.getLogger("newsbeam")


class PathRefused(ValueError):
    """An output or input path a run cannot use (exit 2); the message names it."""


class NothingToRead(PathRefused):
    """Inputs that name no capture file: a path that does not exist, or patterns that match nothing."""


@dataclass(frozen=True)
class RunPaths:
    """Absolute input patterns and output folder of a run, and the capture files the patterns list."""

    patterns: list[str]
    output: str
    listing: Listing


def absolute(path: str) -> str:
    """A folder means every file below it; anything else is taken as a glob or a path. URLs stay as given."""
    if "://" in path:
        return path
    if os.path.isdir(path):
        return os.path.join(os.path.abspath(path), "**")
    return os.path.abspath(path)


def output_folder(path: str) -> str:
    """The output folder as an absolute path (or URL), without a trailing slash."""
    return path.rstrip("/") if "://" in path else os.path.abspath(path)


def check_run_paths(inputs: list[str], output: str, follow_symlinks: bool = False) -> RunPaths:
    """The run's paths, after refusing what cannot be run (see the module docstring); creates nothing."""
    out = output_folder(output)
    local_output = "://" not in out
    if local_output and os.path.exists(out) and not os.path.isdir(out):
        raise PathRefused(f"--output {output} is a file, not a folder")
    missing = [path for path in inputs if "://" not in path and not glob.has_magic(path) and not os.path.exists(path)]
    if missing:
        raise NothingToRead(f"input path does not exist: {', '.join(missing)}")
    patterns = [absolute(path) for path in inputs]
    for path, pattern in zip(inputs, patterns, strict=True):
        if is_within(_folder_of(pattern), out):
            raise PathRefused(f"--input {path} is inside the output folder {out}: a run would read its own output")
    holding = [path for path, pattern in zip(inputs, patterns, strict=True) if is_within(out, _folder_of(pattern))]
    if holding:
        LOG.info("the output folder %s is inside the input %s: its files are left out of the input", out,
                 ", ".join(holding))
    listing = list_inputs(patterns, follow_symlinks, exclude=out)
    if not listing.files:
        passed_over = sum(len(paths) for paths in listing.skipped.values())
        also = f" ({passed_over} passed over: not regular files, or symlinks out of the input)" if passed_over else ""
        raise NothingToRead(f"no capture file matches {', '.join(inputs)}{also}")
    return RunPaths(patterns, out, listing)


def create_output(out: str) -> None:
    """Create a local output folder, or raise a PathRefused saying why it cannot be."""
    if "://" in out:
        return
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise PathRefused(f"cannot create the output folder {out}: {error.strerror}") from None


def _folder_of(pattern: str) -> str:
    """The folder a pattern reads from: the part before its first wildcard, or the file's own path."""
    if not glob.has_magic(pattern):
        return pattern
    head = pattern[: min(pattern.index(ch) for ch in "*?[" if ch in pattern)]
    return head.rsplit("/", 1)[0] or "/"
