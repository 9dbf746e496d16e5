"""newsbeam's Beam wiring, IO, bookkeeping and command line; the text logic lives in ``transforms``.

Sub-packages, each importing only those listed after it (and ``transforms``): ``cli`` (the commands),
``analyst`` (SQL, shell and report over an output folder), ``graph`` (the batch and streaming graphs),
``output`` (what a run writes and reads back), ``captures`` (capture readers), ``runtime`` (process
set-up, logging, progress, worker processes). ``config`` (the run configuration) is read by all of them.
Importing any of it changes no process state: the entry points call ``runtime.process.prepare_process``.
"""
