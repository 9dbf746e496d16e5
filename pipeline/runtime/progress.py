"""Progress of a local batch run: workers tally into small files, the launcher sums and shows them.

The FnApiRunner runs the pipeline synchronously (in this process or in worker subprocesses), so
counters are not readable until it ends. Instead each worker process writes its running tallies to
``<dir>/<pid>-<thread>.json`` at most twice a second; a monitor thread in the launcher sums them and
redraws one status line on a terminal. The folder is hidden under the output and removed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path

_FLUSH_SECONDS = 0.5


class ProgressTally:
    """Per-process tallies, flushed to the progress folder now and then (never on every element)."""

    _instances: dict[tuple[str, int], ProgressTally] = {}
    _guard = threading.Lock()

    def __init__(self, directory: str):
        self.path = Path(directory) / f"{os.getpid()}-{threading.get_ident()}.json"
        self.counts: Counter = Counter()
        self.flushed = 0.0

    @classmethod
    def for_directory(cls, directory: str | None) -> ProgressTally | None:
        """The tally of this process and thread for ``directory`` (None when progress is off)."""
        if not directory:
            return None
        key = (directory, threading.get_ident())
        with cls._guard:
            if key not in cls._instances:
                cls._instances[key] = cls(directory)
            return cls._instances[key]

    def add(self, name: str, value: int = 1) -> None:
        self.counts[name] += value
        if time.monotonic() - self.flushed > _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.flushed = time.monotonic()
        try:
            temp = self.path.with_suffix(".tmp")
            temp.write_text(json.dumps(self.counts))
            temp.replace(self.path)
        except OSError:
            pass  # progress is a courtesy: never fail a run for it


def read_totals(directory: str) -> Counter:
    """The sum of every worker's last flushed tallies."""
    totals: Counter = Counter()
    for path in Path(directory).glob("*.json"):
        try:
            totals.update(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return totals


def render(totals: Counter, total_files: int, reading_for: float, tagging_for: float | None) -> str:
    """``files 120/500 (24%) | captures 340 | enriched 300 | entities 0 | 9.8 articles/s | ETA 1m05s``.

    A local run reads and cleans every file first, then tags entities: each phase has its own rate
    (``reading_for``/``tagging_for`` are the seconds spent in each) and its own ETA.
    """
    files, enriched, tagged = totals["files"], totals["enriched"], totals["entities"]
    parts = [f"files {files}/{total_files} ({100 * files / max(total_files, 1):.0f}%)",
             f"captures {totals['captures']}", f"enriched {enriched}", f"entities {tagged}"]
    if tagging_for is None:
        rate, left, speed = files / max(reading_for, 1e-9), total_files - files, enriched / max(reading_for, 1e-9)
    else:
        rate = speed = tagged / max(tagging_for, 1e-9)
        left = enriched - tagged
    parts.append(f"{speed:.1f} articles/s")
    if rate > 0 and left > 0:
        seconds = int(left / rate)
        parts.append(f"ETA {seconds // 60}m{seconds % 60:02d}s")
    return " | ".join(parts)


class ProgressMonitor:
    """Context manager: shows the run's progress on stderr while the pipeline runs (TTY only)."""

    def __init__(self, directory: str, total_files: int, enabled: bool):
        self.directory, self.total_files, self.enabled = directory, total_files, enabled
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="newsbeam-progress", daemon=True)

    def __enter__(self) -> ProgressMonitor:
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        if self.enabled:
            self._started = time.monotonic()
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
            sys.stderr.write("\r\033[K")
        shutil.rmtree(self.directory, ignore_errors=True)

    def _loop(self) -> None:
        tagging_since = None
        while not self._stop.wait(1.0):
            totals, now = read_totals(self.directory), time.monotonic()
            if tagging_since is None and totals["entities"]:
                tagging_since = now
            tagging_for = now - tagging_since if tagging_since is not None else None
            sys.stderr.write("\r\033[K" + render(totals, self.total_files, now - self._started, tagging_for))
            sys.stderr.flush()
