"""Cut a run's input files into slices of at most N captures, each read by a pipeline of its own.

The local runner holds a pipeline's rows until its grouping steps, so a pipeline's memory follows the
captures it is given. Small files are grouped into one slice; a WARC or JSONL file with more captures
is cut into parts by capture position (``#line=`` or ``#offset=`` in ``source_uri``), found by reading
it once before the run. Each part reads its file from the start, as a whole file is read (its size,
mtime and hash are checked the same way), and keeps only the captures of its range; the file's last
part is the one that commits the file to the ledger.

A file read again (rewritten, or ``--reprocess``) may have committed rows at positions the new version
no longer has a capture at (it shrank, or its records moved). No later part reads such a capture again,
so the parts before treat those rows as ordinary committed rows, as a pipeline reading the whole file
does; the pre-pass finds them (``Part.vanished``).
"""

from __future__ import annotations

import dataclasses
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pipeline.captures.files import holds_many, iter_captures
from pipeline.captures.source import ReadLimits
from transforms.records import capture_position


@dataclass(frozen=True)
class Part:
    """The captures of one file at positions ``first <= position < end`` (``end`` None: to the file's end).

    A capture or rejection without a position (a whole-file failure) belongs to the ``last`` part, the
    one that commits the file. ``vanished``: the sorted positions from ``end`` on where committed rows of
    the file sit but the file has no capture any more.
    """

    first: int
    end: int | None
    last: bool
    vanished: tuple[int, ...] = ()

    def holds(self, source_uri: str) -> bool:
        """True when the capture at ``source_uri`` (of this part's file) is read by this part."""
        position = capture_position(source_uri)
        return self.last if position is None else not self.skips(position)

    def skips(self, position: int) -> bool:
        """True for a position outside this part: its record is read past, not parsed."""
        return position < self.first or (self.end is not None and position >= self.end)

    def ahead(self, source_uri: str) -> bool:
        """True when the capture at ``source_uri`` sits after this part's range: its row belongs to the version
        of the file being read, whose later parts judge it."""
        position = capture_position(source_uri)
        return position is not None and self.end is not None and position >= self.end

    def read_later(self, source_uri: str) -> bool:
        """True when a later part of the same file reads the capture at ``source_uri`` again (it is ahead, and
        the file still has a capture there)."""
        if not self.ahead(source_uri):
            return False
        position = capture_position(source_uri)
        at = bisect_left(self.vanished, position)
        return at == len(self.vanished) or self.vanished[at] != position


class Sliceable(Protocol):
    path: str
    size: int
    mtime: float
    part: Part | None


F = TypeVar("F", bound=Sliceable)


def slice_inputs(files: list[F], limits: ReadLimits, most_captures: int, most_files: int,
                 committed: Callable[[str], array] = lambda _path: array("q")) -> Iterator[list[F]]:
    """The files in order, in slices of at most ``most_captures`` captures and ``most_files`` files.

    0 means no bound: with ``most_captures`` 0 no file is opened here and none is cut (a cluster runner
    streams a file through its workers). A file with more captures than the bound is a slice per part,
    each the file with its ``part`` set. ``committed(path)``: the sorted positions of the rows committed
    for captures of that file.
    """
    group: list[F] = []
    held = 0
    for item in files:
        starts, captures, vanished = (_part_starts(item, limits, most_captures, committed) if most_captures
                                      else ([], 1, ()))
        full = bool(group) and ((most_captures and held + captures > most_captures)
                                or (most_files and len(group) >= most_files))
        if group and (len(starts) > 1 or full):
            yield group
            group, held = [], 0
        if len(starts) > 1:
            yield from ([dataclasses.replace(item, part=part)] for part in _parts(starts, vanished))
            continue
        group.append(item)
        held += captures
    if group:
        yield group


def _part_starts(item: Sliceable, limits: ReadLimits, most: int,
                 committed: Callable[[str], array]) -> tuple[list[int], int, tuple[int, ...]]:
    """The position of every ``most``-th capture of a WARC or JSONL file, its number of captures, and the
    committed positions it has no capture at (sorted)."""
    stat = (item.size, item.mtime)
    if not holds_many(item.path, limits, stat):
        return [], 1, ()
    starts: list[int] = []
    captures = 0
    earlier = committed(item.path)
    present = array("q")  # positions read now, kept only while they can match a committed one
    for capture in iter_captures(item.path, limits, stat):
        position = capture_position(capture.source_uri)
        if position is None:
            continue
        if captures % most == 0:
            starts.append(position)
        captures += 1
        if earlier:
            present.append(position)
    return starts, captures, _missing(earlier, present)


def _missing(earlier: array, present: array) -> tuple[int, ...]:
    """The positions of sorted ``earlier`` that ascending ``present`` lacks."""
    missing, at = [], 0
    for position in earlier:
        while at < len(present) and present[at] < position:
            at += 1
        if at == len(present) or present[at] != position:
            missing.append(position)
    return tuple(missing)


def _parts(starts: list[int], vanished: tuple[int, ...]) -> list[Part]:
    ends: list[int | None] = [*starts[1:], None]
    return [Part(0 if index == 0 else start, end, end is None,
                 vanished[bisect_left(vanished, end):] if end is not None else ())
            for index, (start, end) in enumerate(zip(starts, ends, strict=True))]
