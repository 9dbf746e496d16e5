"""The ledger of committed input files, and the plan of which files a run must read.

A file is known by path, size and modification time, and by its sidecar's size and modification time
(a sidecar is part of its capture); when the file's differ from the ledger, its content hash decides (a
file copied back with a new mtime is not new; a rewritten one is). The ledger only saves work: article
ids keep the output free of duplicates even when it is behind.

Listing reads only what can be read without hanging or leaking: regular files (a FIFO, socket or device
is skipped and counted), and no symlink whose target lies outside the input roots unless
``follow_symlinks`` is asked for (a shared drop folder must not become a way to read any file the job
can read).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import stat
from collections import defaultdict
from dataclasses import dataclass, field

from apache_beam.io.filesystems import FileSystems

from pipeline.captures import file_uri, is_capture_path, is_within, local_path, open_file, sidecar_paths
from pipeline.captures.slices import Part
from pipeline.output.schema import LEDGER_GLOB
from pipeline.output.sink import join, matching_files, read_parquet

_CHUNK = 1 << 20
LOG = logging.getLogger("newsbeam")
_SKIPPED = {"not_a_regular_file": "not a regular file (a FIFO, socket or device could hang or never end)",
            "symlink_outside_input": "a symlink to a file outside the input folders (see --follow-symlinks)"}


@dataclass(frozen=True)
class InputFile:
    """One capture file as listed: enough to recognise it again without reading it."""

    path: str  # escaped (``captures.file_uri``): the form ``source_uri`` and the ledger use
    size: int
    mtime: float
    sidecar: str | None = None  # ``size:mtime`` of the sidecar that goes with it, when there is one
    part: Part | None = None  # the captures of it one pipeline reads, when a large file is cut into slices


@dataclass(frozen=True)
class LedgerEntry:
    size: int
    mtime: float
    sha256: str
    sidecar: str | None = None


@dataclass
class Listing:
    """The capture files found, and those passed over, by reason (escaped paths)."""

    files: list[InputFile] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class InputPlan:
    """Files to read in this run, and how many were passed over as already committed."""

    to_read: list[InputFile] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    listed: int = 0


def list_inputs(patterns: list[str], follow_symlinks: bool = False, exclude: str | None = None) -> Listing:
    """Every capture file matching ``patterns`` (sidecars, hidden and partial files left out), once; nothing
    within the folder ``exclude`` (the run's output, when it lies inside an input folder).

    Files that must not be opened are in ``skipped`` under ``not_a_regular_file`` or
    ``symlink_outside_input`` instead.
    """
    roots = [_root(pattern) for pattern in patterns]
    found: dict[str, InputFile] = {}
    sidecars: dict[str, str] = {}
    skipped: dict[str, list[str]] = defaultdict(list)
    for result in FileSystems.match(patterns):
        for metadata in result.metadata_list:
            path, size, mtime = metadata.path, metadata.size_in_bytes, float(metadata.last_updated_in_seconds or 0.0)
            is_sidecar = path.endswith(".meta.json")
            if not (is_sidecar or is_capture_path(path)) or (exclude and is_within(path, exclude)):
                continue
            if refused := _refusal(path, roots, follow_symlinks):
                skipped[refused].append(file_uri(path))
            elif is_sidecar:
                sidecars[path] = f"{size}:{mtime!r}"
            else:
                found[path] = InputFile(file_uri(path), size, mtime)
    files = [InputFile(item.path, item.size, item.mtime, _sidecar(path, sidecars))
             for path, item in sorted(found.items(), key=lambda pair: pair[1].path)]
    return Listing(files, dict(skipped))


def report_skipped(skipped: dict[str, list[str]]) -> dict[str, int]:
    """Log each file the listing passed over; return their counts by reason, for the summary."""
    for reason, paths in skipped.items():
        for path in paths:
            LOG.warning("skipped %s: %s", path, _SKIPPED[reason])
    return {reason: len(paths) for reason, paths in sorted(skipped.items())}


def _sidecar(path: str, sidecars: dict[str, str]) -> str | None:
    """The signature of the sidecar a reader would apply to ``path`` (the most specific one listed)."""
    return next((sidecars[candidate] for candidate in sidecar_paths(path) if candidate in sidecars), None)


def _root(pattern: str) -> str | None:
    """The real folder (or file) a local input pattern names before its first wildcard."""
    if "://" in pattern:
        return None
    fixed = pattern[:min((i for i, char in enumerate(pattern) if char in "*?["), default=len(pattern))]
    return os.path.realpath(fixed if fixed == pattern else os.path.dirname(fixed) or ".")


def _refusal(path: str, roots: list[str | None], follow_symlinks: bool) -> str | None:
    """Why a listed local file must not be opened, or None."""
    if "://" in path:
        return None
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # gone since listed: the reader says so
    if not stat.S_ISREG(mode):
        return "not_a_regular_file"
    if follow_symlinks:
        return None
    real = _real_path(path)
    inside = any(root is not None and (real == root or real.startswith(root.rstrip(os.sep) + os.sep))
                 for root in roots)
    return None if inside else "symlink_outside_input"


def _real_path(path: str) -> str:
    """``os.path.realpath``, with the folder's resolved once for all its files."""
    folder, name = os.path.split(path)
    if os.path.islink(path):
        return os.path.realpath(path)
    return os.path.join(_real_folder(folder), name)


@functools.lru_cache(maxsize=4096)
def _real_folder(folder: str) -> str:
    return os.path.realpath(folder)


class LedgerCache:
    """An output's ledger kept in memory and topped up with the ledger files written since (streaming)."""

    def __init__(self, output: str):
        self.output = output
        self._read: set[str] = set()
        self._entries: dict[str, tuple[str, LedgerEntry]] = {}

    def refresh(self) -> dict[str, LedgerEntry]:
        """The latest entry of every committed file, after reading ledger files not read before."""
        for path in matching_files(join(self.output, LEDGER_GLOB)):
            if path not in self._read:
                self._merge(path)
                self._read.add(path)
        return {path: entry for path, (_, entry) in self._entries.items()}

    def _merge(self, ledger_file: str) -> None:
        table = read_parquet(ledger_file)  # all columns: ledgers written before ``sidecar`` existed lack it
        for row in table.to_pylist():
            stamp = row["committed_at"].isoformat()
            if row["path"] not in self._entries or self._entries[row["path"]][0] <= stamp:
                self._entries[row["path"]] = (stamp, LedgerEntry(row["size"], row["mtime"], row["sha256"],
                                                                 row.get("sidecar")))


def load_ledger(output: str) -> dict[str, LedgerEntry]:
    """The latest ledger entry of every committed file under ``output``."""
    return LedgerCache(output).refresh()


def file_sha256(path: str) -> str:
    """Hex sha256 of a file's bytes (``path`` escaped, as ``InputFile.path``), read in chunks."""
    digest = hashlib.sha256()
    with open_file(local_path(path)) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def plan_inputs(files: list[InputFile], ledger: dict[str, LedgerEntry], reprocess: bool) -> InputPlan:
    """Which of ``files`` to read: all with ``reprocess``, else those new or changed since committed."""
    plan = InputPlan(listed=len(files))
    for item in files:
        entry = ledger.get(item.path)
        if reprocess or entry is None:
            plan.to_read.append(item)
        elif entry.sidecar != item.sidecar:  # a sidecar added, edited or removed: the capture reads otherwise
            plan.to_read.append(item)
            plan.changed.append(item.path)
        elif entry.size == item.size and entry.mtime == item.mtime:
            plan.unchanged += 1
        elif entry.size == item.size and file_sha256(item.path) == entry.sha256:
            plan.unchanged += 1
        else:
            plan.to_read.append(item)
            plan.changed.append(item.path)
    return plan
