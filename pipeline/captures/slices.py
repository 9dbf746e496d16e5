"""Cut a run's input files into slices of at most N captures, each read by a pipeline of its own.

The local runner holds a pipeline's rows until its grouping steps, so a pipeline's memory follows the
captures it is given. Small files are grouped into one slice; a WARC or JSONL file with more captures
is cut into parts by capture position (``#line=`` or ``#offset=`` in ``source_uri``), found by reading
it once before the run. Each part reads its file from the start, as a whole file is read (its size,
mtime and hash are checked the same way), and keeps only the captures of its range; the file's last
part is the one that commits the file to the ledger.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pipeline.captures.files import holds_many, iter_captures
from pipeline.captures.paths import capture_position
from pipeline.captures.source import ReadLimits


@dataclass(frozen=True)
class Part:
    """The captures of one file at positions ``first <= position < end`` (``end`` None: to the file's end).

    A capture or rejection without a position (a whole-file failure) belongs to the ``last`` part, the
    one that commits the file.
    """

    first: int
    end: int | None
    last: bool

    def holds(self, source_uri: str) -> bool:
        """True when the capture at ``source_uri`` (of this part's file) is read by this part."""
        position = capture_position(source_uri)
        return self.last if position is None else not self.skips(position)

    def skips(self, position: int) -> bool:
        """True for a position outside this part: its record is read past, not parsed."""
        return position < self.first or (self.end is not None and position >= self.end)

    def ahead(self, source_uri: str) -> bool:
        """True when the capture at ``source_uri`` is read by a later part of the same file."""
        position = capture_position(source_uri)
        return position is not None and self.end is not None and position >= self.end


class Sliceable(Protocol):
    path: str
    size: int
    mtime: float
    part: Part | None


F = TypeVar("F", bound=Sliceable)


def slice_inputs(files: list[F], limits: ReadLimits, most_captures: int, most_files: int) -> Iterator[list[F]]:
    """The files in order, in slices of at most ``most_captures`` captures and ``most_files`` files.

    0 means no bound: with ``most_captures`` 0 no file is opened here and none is cut (a cluster runner
    streams a file through its workers). A file with more captures than the bound is a slice per part,
    each the file with its ``part`` set.
    """
    group: list[F] = []
    held = 0
    for item in files:
        starts, captures = _part_starts(item, limits, most_captures) if most_captures else ([], 1)
        full = bool(group) and ((most_captures and held + captures > most_captures)
                                or (most_files and len(group) >= most_files))
        if group and (len(starts) > 1 or full):
            yield group
            group, held = [], 0
        if len(starts) > 1:
            yield from ([dataclasses.replace(item, part=part)] for part in _parts(starts))
            continue
        group.append(item)
        held += captures
    if group:
        yield group


def _part_starts(item: Sliceable, limits: ReadLimits, most: int) -> tuple[list[int], int]:
    """The position of every ``most``-th capture of a WARC or JSONL file, and its number of captures."""
    stat = (item.size, item.mtime)
    if not holds_many(item.path, limits, stat):
        return [], 1
    starts: list[int] = []
    captures = 0
    for capture in iter_captures(item.path, limits, stat):
        position = capture_position(capture.source_uri)
        if position is None:
            continue
        if captures % most == 0:
            starts.append(position)
        captures += 1
    return starts, captures


def _parts(starts: list[int]) -> list[Part]:
    ends: list[int | None] = [*starts[1:], None]
    return [Part(0 if index == 0 else start, end, end is None)
            for index, (start, end) in enumerate(zip(starts, ends, strict=True))]
