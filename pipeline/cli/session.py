"""What ``run`` and ``stream --engine`` share: a job under the output's lock that signals can stop, ending in
a saved summary and fresh views whatever its outcome, so ``newsbeam runs`` and the analysts' views see every job.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

from pipeline.cli.options import EXIT_FAILED, EXIT_LOCKED, EXIT_STOPPED
from pipeline.output.lock import Fence, LockHeld, OutputLock
from pipeline.output.summary import RunSummary, save
from pipeline.output.views import write_views

LOG = logging.getLogger("newsbeam")


class Stopped(BaseException):  # noqa: N818 - a request, not an error; like KeyboardInterrupt, no ``except Exception`` takes it
    """SIGTERM (or SIGINT) asked the job to stop: the job ends, its summary is saved as "stopped"."""


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise ``Stopped`` in the main thread, wherever it waits.

    The previous handlers come back afterwards; a job started off the main thread (a caller's own
    thread) cannot take signals and leaves them alone.
    """
    def stop(signum, _frame):
        raise Stopped(f"stopped by {signal.Signals(signum).name}")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def locked_job(summary: RunSummary, wait: bool, work: Callable[[Fence | None], int]) -> tuple[int, str | None]:
    """Run ``work(fence)`` under the lock of ``summary.output``; save the summary and write the views after it.

    ``work`` fills in the summary and returns the exit code; a failure or a stop is recorded in the summary
    instead. Returns the exit code and the saved summary's path (None when another run holds the lock, exit
    75, or the output cannot be written, exit 1). An output at a URL (gs://, s3://) is not locked: the lock
    needs an exclusive create on a local (POSIX) filesystem, which object stores do not offer.
    """
    clock = time.monotonic()
    local = "://" not in summary.output
    if not local:
        LOG.info("run %s: %s is not locked (the lock needs a local filesystem's exclusive create); keep to one "
                 "job at a time on it", summary.run_id, summary.output)
    try:
        with stopping_on_signals(), (OutputLock(summary.output, summary.run_id, wait=wait) if local
                                     else nullcontext()) as lock:
            code = work(lock.fence if lock else None)
    except LockHeld as held:
        print(f"newsbeam: {held}", file=sys.stderr)
        return EXIT_LOCKED, None
    except Stopped as stopped:
        LOG.warning("run %s %s", summary.run_id, stopped)
        summary.status, summary.message, code = "stopped", str(stopped), EXIT_STOPPED
    except Exception as error:  # reported, saved in the run history, and turned into an exit code
        # An OSError names its path (an unwritable output folder, a full disk): the message says it all.
        LOG.error("run %s failed: %s", summary.run_id, error, exc_info=not isinstance(error, OSError))
        summary.status, summary.message, code = "failed", f"{type(error).__name__}: {error}", EXIT_FAILED
    summary.seconds = round(time.monotonic() - clock, 3)
    summary.exit_code = code
    try:
        saved = save(summary)
        write_views(summary.output)
    except OSError as error:
        print(f"newsbeam: cannot write to the output folder: {error}", file=sys.stderr)
        return EXIT_FAILED, None
    return code, saved
