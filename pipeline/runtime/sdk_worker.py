"""An SDK worker process of a multi-process local run (``--workers N``): Beam's worker, logging as newsbeam does.

Beam's own worker command logs every step of its start and stop at INFO on stderr, whatever ``--quiet``
says. Started as ``python -m pipeline.runtime.sdk_worker`` (see ``pipeline.runtime.local_runner``), the worker logs at
the launcher's level and format instead.
"""

from __future__ import annotations

import logging
import os
import sys

from pipeline.runtime.fast_exit import exit_without_collecting
from pipeline.runtime.logs import FORMAT_VARIABLE, LEVEL_VARIABLE, configure_logging
from pipeline.runtime.process import prepare_process

# A notice about pickled main sessions, which newsbeam does not use (save_main_session is off).
_MAIN_SESSION_NOTICE = "No semi_persistent_directory found"


def _not_main_session_notice(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(_MAIN_SESSION_NOTICE)


def main() -> None:
    prepare_process()
    handler = configure_logging(os.environ.get(FORMAT_VARIABLE, "text"), os.environ.get(LEVEL_VARIABLE, "INFO"))
    handler.addFilter(_not_main_session_notice)
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(sys.argv)
    exit_without_collecting()


if __name__ == "__main__":
    main()
