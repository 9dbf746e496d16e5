"""One run at a time per output folder: an exclusive lock file with a heartbeat, and fencing.

The lock is ``OUT/_lock``, created atomically (a hard link, which fails if the name exists) and holding
who took it. The holder touches it every ``heartbeat`` seconds. A holder on this host is judged by its
process alone: the lock is stale once that process is gone (the pid is not running, or is running a
process started at another time), never because its heartbeat is old, so a run paused for minutes
(SIGSTOP, a suspended VM, a clock jump) keeps its lock. A holder on another host cannot be asked: its
lock is stale when its heartbeat is older than ``stale_after`` seconds. Take-over renames the stale file
away first, so two runs that find the same stale lock cannot both win. Local filesystems only: object
stores have no exclusive create.

Fencing: every lock taken carries a generation, one more than the last one issued
(``OUT/_lock_generation.json``).
A run checks, just before each file it puts in place, that the lock still names its run and generation
(``Fence``); a run that stalled, lost its lock to another host's run and woke up again has its commits
refused instead of doubling rows. The generation is written into each ledger row the run commits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

LOCK_NAME = "_lock"
GENERATION_NAME = "_lock_generation.json"
LOG = logging.getLogger("newsbeam")


class LockHeld(RuntimeError):
    """Another live run holds the lock; the message names it."""

    def __init__(self, holder: dict):
        self.holder = holder
        super().__init__(
            f"another run holds the lock: run {holder.get('run_id')} (pid {holder.get('pid')} on "
            f"{holder.get('host')}, started {holder.get('started_at')})")


class LockLost(RuntimeError):
    """This run's lock was taken over (it stalled past ``stale_after`` and another host's run took it)."""


@dataclass(frozen=True)
class Holder:
    run_id: str
    pid: int
    host: str
    started_at: str
    generation: int = 0
    process_start: str | None = None  # the pid's start time, so that a reused pid is not taken for the holder


@dataclass(frozen=True)
class Fence:
    """Called before each commit: raises ``LockLost`` unless the output's lock still names this run and generation."""

    output: str
    run_id: str
    generation: int

    def __call__(self) -> None:
        holder = read_holder(Path(self.output) / LOCK_NAME) or {}
        if (holder.get("run_id"), holder.get("generation")) != (self.run_id, self.generation):
            raise LockLost(
                f"run {self.run_id} no longer holds the lock of {self.output} (generation {self.generation}; the "
                f"lock now names run {holder.get('run_id')}, generation {holder.get('generation')}): its commit "
                "is refused")


class OutputLock:
    """Context manager: ``with OutputLock(out, run_id): ...``; raises ``LockHeld`` unless ``wait``."""

    def __init__(self, output: str, run_id: str, wait: bool = False, poll: float = 1.0,
                 heartbeat: float = 10.0, stale_after: float = 120.0):
        self.path = Path(output) / LOCK_NAME
        self.holder = Holder(run_id, os.getpid(), socket.gethostname(), datetime.now(UTC).isoformat(),
                             process_start=_process_start(os.getpid()))
        self.wait, self.poll, self.heartbeat, self.stale_after = wait, poll, heartbeat, stale_after
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    @property
    def fence(self) -> Fence:
        """The check a commit of this run makes (valid once the lock is taken)."""
        return Fence(str(self.path.parent), self.holder.run_id, self.holder.generation)

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        waiting = False
        while not self._try_acquire():
            if self._take_over_if_stale():
                continue
            if not self.wait:
                raise LockHeld(read_holder(self.path) or {})
            if not waiting:  # said once, so a scheduler's log shows why the run has not started
                LOG.info("waiting: %s", LockHeld(read_holder(self.path) or {}))
                waiting = True
            time.sleep(self.poll)
        remove_leftovers(self.path.parent)
        self._beat = threading.Thread(target=self._keep_alive, name="newsbeam-lock-heartbeat", daemon=True)
        self._beat.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._beat:
            self._beat.join()
        if (read_holder(self.path) or {}).get("run_id") == self.holder.run_id:
            self.path.unlink(missing_ok=True)

    def _try_acquire(self) -> bool:
        """Link a fully written file to the lock name: the lock never exists without its holder.

        The holder's generation is one more than the last issued; only the winner records it as issued.
        """
        generations = self.path.with_name(GENERATION_NAME)
        holder = replace(self.holder, generation=_last_generation(generations) + 1)
        draft = self.path.with_name(f".{LOCK_NAME}.{holder.pid}.{holder.run_id}")
        draft.write_text(json.dumps(asdict(holder)))
        try:
            os.link(draft, self.path)
        except FileExistsError:
            return False
        finally:
            draft.unlink(missing_ok=True)
        self.holder = holder
        written = generations.with_name(f".{GENERATION_NAME}.{holder.run_id}")
        written.write_text(json.dumps({"generation": holder.generation, "run_id": holder.run_id}))
        os.replace(written, generations)
        return True

    def _take_over_if_stale(self) -> bool:
        """Move a stale lock out of the way; True when the lock name is free to try again."""
        holder = read_holder(self.path)
        if holder is None:
            return not self.path.exists()
        if not self._is_stale(holder):
            return False
        stale = self.path.with_name(f"{LOCK_NAME}.stale-{time.time_ns()}")
        try:
            os.rename(self.path, stale)
        except FileNotFoundError:
            return True  # another run moved it first; race for the name again
        moved = read_holder(stale) or {}
        if moved.get("run_id") != holder.get("run_id"):  # a new holder took the name meanwhile: give it back
            with contextlib.suppress(FileExistsError):
                os.link(stale, self.path)
            stale.unlink(missing_ok=True)
            return False
        LOG.warning("took over the stale lock of run %s (pid %s on %s)", holder.get("run_id"), holder.get("pid"),
                    holder.get("host"))
        stale.unlink(missing_ok=True)
        return True

    def _is_stale(self, holder: dict) -> bool:
        if holder.get("host") == socket.gethostname():
            return not _alive(holder.get("pid"), holder.get("process_start"))
        try:
            return time.time() - self.path.stat().st_mtime > self.stale_after
        except FileNotFoundError:
            return False

    def _keep_alive(self) -> None:
        """Touch the lock while it is still this run's; a lock taken over is left to its new holder."""
        while not self._stop.wait(self.heartbeat):
            if (read_holder(self.path) or {}).get("run_id") != self.holder.run_id:
                LOG.error("run %s lost its lock on %s: its commits will be refused", self.holder.run_id,
                          self.path.parent)
                return
            try:
                os.utime(self.path)
            except FileNotFoundError:
                return


# What a killed run can leave behind: half-written files (never matched by a reader's glob), progress
# tallies, and the staging folder of an interrupted compaction. Only the lock holder may remove them.
_LEFTOVERS = ("date=*/section=*/.*.inprogress", "_rejected/.*.inprogress", "_ledger/.*.inprogress",
              "_keys/*/.*.inprogress", "_stories/.*.inprogress", "_runs/.*.inprogress", ".progress-*",
              "date=*/.compact-*")


def remove_leftovers(output: Path) -> int:
    """Delete what killed runs left in ``output``; call only while holding its lock. Returns the count."""
    removed = 0
    for pattern in _LEFTOVERS:
        for path in output.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    if removed:
        LOG.info("removed %d leftovers of interrupted runs from %s", removed, output)
    return removed


def read_holder(path: Path) -> dict | None:
    """Who holds the lock at ``path`` (None when there is no lock or it is being written)."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _last_generation(path: Path) -> int:
    try:
        return int(json.loads(path.read_text())["generation"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return 0


def _alive(pid: object, started: object = None) -> bool:
    """The process ``pid`` runs (and, when ``started`` is known, is the one started then, not a reuse)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return started is None or _process_start(pid) in (started, None)


def _process_start(pid: int) -> str | None:
    """When ``pid`` started, in clock ticks since boot (Linux ``/proc``); None where that is not known."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None
