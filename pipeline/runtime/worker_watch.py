"""Fail a multi-process local run when one of its SDK worker processes dies, instead of hanging.

With ``--workers N`` the FnApiRunner starts each SDK worker from a thread that raises
``RuntimeError('Worker subprocess exited with return code N')`` when the worker dies, but the runner
itself may go on waiting for that worker's bundle for ever (seen in 2 of 10 runs whose worker was
SIGKILLed mid-bundle on a loaded machine); the run then holds the output lock, heartbeat and all,
indefinitely. This turns that thread's error into an exception in the main thread, so the run fails.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_WORKER_EXITED = "Worker subprocess exited"
_SIGNAL = signal.SIGUSR2  # wakes the main thread from the runner's blocking wait


class WorkerDied(RuntimeError):
    """An SDK worker process exited while the pipeline still needed it."""


@contextmanager
def failing_when_a_worker_dies() -> Iterator[None]:
    """While inside, a dead SDK worker raises ``WorkerDied`` in the main thread (elsewhere: no effect)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    deaths: list[str] = []
    previous_hook = threading.excepthook

    def on_thread_error(hook: threading.ExceptHookArgs) -> None:
        if not (hook.exc_type is RuntimeError and _WORKER_EXITED in str(hook.exc_value)):
            previous_hook(hook)
            return
        deaths.append(str(hook.exc_value))  # reported by WorkerDied, not as a stray thread traceback
        if len(deaths) == 1:
            signal.pthread_kill(threading.main_thread().ident, _SIGNAL)

    def on_signal(_signum, _frame) -> None:
        raise WorkerDied(f"an SDK worker process died ({deaths[0]}); the run cannot finish")

    previous_handler = signal.signal(_SIGNAL, on_signal)
    threading.excepthook = on_thread_error
    try:
        yield
    finally:
        threading.excepthook = previous_hook
        signal.signal(_SIGNAL, previous_handler)
