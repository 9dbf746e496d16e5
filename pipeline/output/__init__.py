"""What a run writes and reads back in an output folder: the Arrow ``schema``, Parquet IO (``sink``), the
``ledger`` of committed input files, the article ``key_index``, the output ``lock``, partition ``compaction``,
the DuckDB ``views`` and the run ``summary``. Imports ``captures`` (to recognise capture paths) and nothing
else of ``pipeline`` but ``config``; no Beam graph here.
"""
