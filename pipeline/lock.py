"""One run at a time per output folder: an exclusive lock file with a heartbeat.

The lock is ``OUT/_lock``, created with O_EXCL and holding who took it. The holder touches it every
``heartbeat`` seconds; a lock whose holder is a dead process on this host, or whose heartbeat is older
than ``stale_after`` seconds, is stale and is taken over. Take-over renames the stale file away first,
so two runs that find the same stale lock cannot both win. Local filesystems only: object stores have
no exclusive create.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

LOCK_NAME = "_lock"


class LockHeld(RuntimeError):
    """Another live run holds the lock; the message names it."""

    def __init__(self, holder: dict):
        self.holder = holder
        super().__init__(
            f"another run holds the lock: run {holder.get('run_id')} (pid {holder.get('pid')} on "
            f"{holder.get('host')}, started {holder.get('started_at')})")


@dataclass(frozen=True)
class Holder:
    run_id: str
    pid: int
    host: str
    started_at: str


class OutputLock:
    """Context manager: ``with OutputLock(out, run_id): ...``; raises ``LockHeld`` unless ``wait``."""

    def __init__(self, output: str, run_id: str, wait: bool = False, poll: float = 1.0,
                 heartbeat: float = 10.0, stale_after: float = 120.0):
        self.path = Path(output) / LOCK_NAME
        self.holder = Holder(run_id, os.getpid(), socket.gethostname(), datetime.now(UTC).isoformat())
        self.wait, self.poll, self.heartbeat, self.stale_after = wait, poll, heartbeat, stale_after
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while not self._try_acquire():
            if not self.wait:
                raise LockHeld(read_holder(self.path) or {})
            time.sleep(self.poll)
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
        try:
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            self._take_over_if_stale()
            return False
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(self.holder), handle)
        return True

    def _take_over_if_stale(self) -> None:
        holder = read_holder(self.path)
        if holder is None or not self._is_stale(holder):
            return
        try:
            os.rename(self.path, self.path.with_name(f"{LOCK_NAME}.stale-{time.time_ns()}"))
        except FileNotFoundError:
            return  # another run took it over first
        for leftover in self.path.parent.glob(f"{LOCK_NAME}.stale-*"):
            leftover.unlink(missing_ok=True)

    def _is_stale(self, holder: dict) -> bool:
        if holder.get("host") == socket.gethostname() and not _alive(holder.get("pid")):
            return True
        try:
            return time.time() - self.path.stat().st_mtime > self.stale_after
        except FileNotFoundError:
            return False

    def _keep_alive(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                os.utime(self.path)
            except FileNotFoundError:
                return


def read_holder(path: Path) -> dict | None:
    """Who holds the lock at ``path`` (None when there is no lock or it is being written)."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
