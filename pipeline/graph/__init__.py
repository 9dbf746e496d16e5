"""The Beam graphs: ``batch`` (files in, articles, dead letters and a ledger out), ``streaming`` (the unbounded
job for an engine) and ``stages``, the DoFns and counters both are built from. Thin wrappers: the text logic
is in ``transforms``; files are read through ``captures`` and written through ``output``; worker-side state
and progress come from ``runtime``. Imports none of ``cli``, ``analyst`` or ``quality``.
"""
