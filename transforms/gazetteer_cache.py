"""The gazetteer's disk cache: an SQLite file whose two large tables are looked up in place, never loaded.

Building the gazetteer from the libraries takes about a second, and holding all of it would take some
40 MB in every worker process (75,000 place names and as many spellings), though a run looks up only the
few places its datelines name. Here those two tables stay in the file: opening it
takes about a millisecond, a lookup a few microseconds, and the processes of a run share its pages through
the operating system's page cache. The small tables (countries, subdivisions, country names) are read
whole. Values are JSON text: a cache is data, never code.

A cache file is written once, under a hidden name, and renamed into place; it is never changed after
(its name is a digest of everything it was built from), so readers open it read-only and immutable.
Each change of the config, the gazetteer's code or its libraries names a new file (7-8 MB); ``prune``
removes the ones no run has opened for a while, so upgrades do not pile them up.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path

STORED = ("places", "spellings")  # looked up in the file
LOADED = ("countries", "subdivisions", "country_names")  # read whole when the cache is opened


class StoredTable(Mapping):
    """One key-value table of an open cache file, read on demand (thread-safe: one lookup at a time)."""

    def __init__(self, connection: sqlite3.Connection, lock: threading.Lock, table: str):
        self._connection, self._lock, self._table = connection, lock, table

    def __getitem__(self, key: str):
        with self._lock:
            row = self._connection.execute(f"SELECT value FROM {self._table} WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return json.loads(row[0])

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            keys = [key for (key,) in self._connection.execute(f"SELECT key FROM {self._table}")]
        return iter(keys)

    def __len__(self) -> int:
        with self._lock:
            return self._connection.execute(f"SELECT count(*) FROM {self._table}").fetchone()[0]


def open_cache(path: Path) -> dict:
    """The tables of the cache file at ``path``: ``STORED`` ones as ``StoredTable``, the others as data.

    Raises ``sqlite3.Error`` (or ``OSError``, ``ValueError``) when the file is missing or damaged.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        tables = {name: json.loads(value) for name, value in connection.execute("SELECT name, value FROM loaded")}
        missing = set(LOADED) - tables.keys()
        if missing:
            raise ValueError(f"{path}: no {', '.join(sorted(missing))}")
        lock = threading.Lock()
        for name in STORED:
            tables[name] = StoredTable(connection, lock, name)
            next(iter(connection.execute(f"SELECT count(*) FROM {name}")))  # a damaged table fails now, not later
    except BaseException:
        connection.close()
        raise
    return tables


def write_cache(path: Path, tables: dict) -> None:
    """Write ``tables`` (JSON-able values) as a cache file at ``path``, whole or not at all.

    A folder that cannot be written is only a slower start for the next run: nothing is raised.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".gazetteer-", suffix=".sqlite")
        os.close(handle)
    except OSError:
        return
    try:
        with closing(sqlite3.connect(temporary)) as connection:
            connection.execute("CREATE TABLE loaded (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            connection.executemany("INSERT INTO loaded VALUES (?, ?)",
                                   [(name, json.dumps(tables[name], ensure_ascii=False)) for name in LOADED])
            for name in STORED:
                connection.execute(f"CREATE TABLE {name} (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
                connection.executemany(f"INSERT INTO {name} VALUES (?, ?)", (
                    (key, json.dumps(value, ensure_ascii=False)) for key, value in tables[name].items()))
            connection.commit()
        os.replace(temporary, path)
    except (OSError, sqlite3.Error):
        Path(temporary).unlink(missing_ok=True)


def mark_used(path: Path) -> None:
    """Record that a run opened the cache file at ``path`` (its modification time), for ``prune``."""
    try:
        os.utime(path)
    except OSError:  # a read-only cache folder: the file is used, only its age is not refreshed
        pass


def prune(current: Path, keep_days: float) -> None:
    """Delete the other gazetteer cache files beside ``current`` (and unfinished writes) that no run has
    opened for ``keep_days``. A file that cannot be deleted is left: this is housekeeping.

    Another version of newsbeam sharing the folder may still use an old file; if it has not for
    ``keep_days``, it only rebuilds it (about a second).
    """
    cutoff = time.time() - keep_days * 86400
    for path in [*current.parent.glob("gazetteer-*"), *current.parent.glob(".gazetteer-*")]:
        try:
            if path != current and path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue
