"""Leaving a newsbeam process without the interpreter's last garbage collection."""

from __future__ import annotations

import gc
import sys


def exit_without_collecting(code: int | None = 0) -> None:
    """Exit with ``code``, leaving out the collection CPython runs over every object still alive at exit.

    Beam's modules and graph (and the NER model, where loaded) make that collection a noticeable share of a
    short run, spent on memory the operating system takes back anyway; frozen objects are left out of it.
    Exit handlers still run (logging flushes, temporary folders go). Only for a process that is ending:
    newsbeam closes and renames its files itself and leaves nothing to a finalizer.
    """
    gc.freeze()
    sys.exit(code)
