"""An SDK worker process of a multi-process local run (``--workers N``): Beam's worker, logging as newsbeam does.

Beam's own worker command logs every step of its start and stop at INFO on stderr, whatever ``--quiet``
says. Started as ``python -m pipeline.runtime.sdk_worker`` (see ``pipeline.runtime.local_runner``), the worker logs at
the launcher's level and format instead.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import threading

from pipeline.runtime.fast_exit import exit_without_collecting
from pipeline.runtime.logs import FORMAT_VARIABLE, LEVEL_VARIABLE, configure_logging
from pipeline.runtime.process import prepare_process

# The launcher's pid, set by ``pipeline.runtime.local_runner`` and inherited by its workers, which end when it ends.
LAUNCHER_VARIABLE = "NEWSBEAM_LAUNCHER_PID"

# A notice about pickled main sessions, which newsbeam does not use (save_main_session is off).
_MAIN_SESSION_NOTICE = "No semi_persistent_directory found"


def _not_main_session_notice(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(_MAIN_SESSION_NOTICE)


def end_with_launcher(pid: int) -> None:
    """End this worker as soon as the launcher ``pid`` ends, however it ends (SIGKILL included).

    A worker's parent is the shell that started it, not the launcher, and Beam's runner only stops its
    workers when it shuts down cleanly: a killed launcher left them running, holding memory and files.
    """
    try:
        launcher = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (OSError, AttributeError):  # no pidfd (not Linux 5.3+): nothing to watch with
        return

    def watch() -> None:
        select.select([launcher], [], [])  # readable once the process has exited
        os._exit(1)

    threading.Thread(target=watch, name="newsbeam-launcher-watch", daemon=True).start()


def main() -> None:
    if launcher := os.environ.get(LAUNCHER_VARIABLE):
        end_with_launcher(int(launcher))
    prepare_process()
    handler = configure_logging(os.environ.get(FORMAT_VARIABLE, "text"), os.environ.get(LEVEL_VARIABLE, "INFO"))
    handler.addFilter(_not_main_session_notice)
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(sys.argv)
    exit_without_collecting()


if __name__ == "__main__":
    main()
