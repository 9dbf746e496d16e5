"""The processes newsbeam runs in: ``process`` (set-up before Arrow and Beam load), ``logs``, ``progress``,
``fast_exit``, the multi-process ``local_runner`` and the ``sdk_worker`` it starts
(``python -m pipeline.runtime.sdk_worker``), ``worker_watch`` (failing when a worker dies) and
``worker_state`` (state shared by a worker's DoFns). Imports nothing else of ``pipeline``.
"""
