"""The ledger of committed input files, and the plan of which files a run must read.

A file is known by path, size and modification time; when those differ from the ledger, its content
hash decides (a file copied back with a new mtime is not new; a rewritten one is). The ledger only
saves work: article ids keep the output free of duplicates even when it is behind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipeline.captures import is_capture_path
from pipeline.output.schema import LEDGER_GLOB
from pipeline.output.sink import join, matching_files, read_parquet

_CHUNK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One capture file as listed: enough to recognise it again without reading it."""

    path: str
    size: int
    mtime: float


@dataclass(frozen=True)
class LedgerEntry:
    size: int
    mtime: float
    sha256: str


@dataclass
class InputPlan:
    """Files to read in this run, and how many were passed over as already committed."""

    to_read: list[InputFile] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    listed: int = 0


def list_inputs(patterns: list[str]) -> list[InputFile]:
    """Every capture file matching ``patterns`` (sidecars, hidden and partial files left out), once."""
    found: dict[str, InputFile] = {}
    for result in FileSystems.match(patterns):
        for metadata in result.metadata_list:
            if is_capture_path(metadata.path):
                found[metadata.path] = InputFile(metadata.path, metadata.size_in_bytes,
                                                 float(metadata.last_updated_in_seconds or 0.0))
    return sorted(found.values(), key=lambda item: item.path)


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
        table = read_parquet(ledger_file, ["path", "size", "mtime", "sha256", "committed_at"])
        for row in table.to_pylist():
            stamp = row["committed_at"].isoformat()
            if row["path"] not in self._entries or self._entries[row["path"]][0] <= stamp:
                self._entries[row["path"]] = (stamp, LedgerEntry(row["size"], row["mtime"], row["sha256"]))


def load_ledger(output: str) -> dict[str, LedgerEntry]:
    """The latest ledger entry of every committed file under ``output``."""
    return LedgerCache(output).refresh()


def file_sha256(path: str) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
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
        elif entry.size == item.size and entry.mtime == item.mtime:
            plan.unchanged += 1
        elif entry.size == item.size and file_sha256(item.path) == entry.sha256:
            plan.unchanged += 1
        else:
            plan.to_read.append(item)
            plan.changed.append(item.path)
    return plan
