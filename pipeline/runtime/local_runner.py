"""Beam's local engine with worker processes that log like newsbeam (``--workers N``)."""

from __future__ import annotations

import logging
import shlex
import sys

from apache_beam.portability import python_urns
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

WORKER_COMMAND = f"{shlex.quote(sys.executable)} -m pipeline.runtime.sdk_worker"

# The runner also relays each worker's log records through its job service as "Worker: <proto text>";
# the workers print their own records on the same stderr, so the relayed copy is dropped.
_RELAYED = "Worker: %s"


def _not_relayed(record: logging.LogRecord) -> bool:
    return record.msg != _RELAYED


class MultiProcessRunner(FnApiRunner):
    """The FnApiRunner in multi-processing mode whose SDK workers run ``python -m pipeline.runtime.sdk_worker``."""

    def run_via_runner_api(self, pipeline_proto, options):
        logging.getLogger("apache_beam.runners.portability.local_job_service").addFilter(_not_relayed)
        for environment in pipeline_proto.components.environments.values():
            if environment.urn == python_urns.SUBPROCESS_SDK:
                environment.payload = WORKER_COMMAND.encode("utf-8")
        return super().run_via_runner_api(pipeline_proto, options)

