"""The one Arrow schema of newsbeam's output, and its dead-letter twin. Every writer uses these.

``date`` and ``section`` are not stored in the files: they are the Hive partition folders
(``date=YYYY-MM-DD/section=<slug>/``), which DuckDB and pyarrow turn back into typed columns.
"""

from __future__ import annotations

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

ENTITY = pa.struct([("text", pa.string()), ("label", pa.string()), ("count", pa.int32())])

ARTICLE_SCHEMA = pa.schema([
    ("article_id", pa.string()),
    ("url", pa.string()),
    ("source_uri", pa.string()),
    ("captured_at", TIMESTAMP),
    ("captured_at_source", pa.string()),
    ("published_at", TIMESTAMP),
    ("date_source", pa.string()),
    ("section_source", pa.string()),
    ("title", pa.string()),
    ("byline", pa.string()),
    ("agency", pa.string()),
    ("site_name", pa.string()),
    ("body", pa.string()),
    ("word_count", pa.int32()),
    ("language", pa.string()),
    ("language_confidence", pa.float32()),
    ("dateline", pa.string()),
    ("dateline_place", pa.string()),
    ("dateline_country", pa.string()),
    ("dateline_country_code", pa.string()),
    ("entities", pa.list_(ENTITY)),
    ("entities_model", pa.string()),
    ("furniture_removed", pa.map_(pa.string(), pa.int32())),
    ("content_hash", pa.string()),
    ("pipeline_version", pa.string()),
    ("run_id", pa.string()),
])

PARTITION_COLUMNS = ("date", "section")

REJECTED_SCHEMA = pa.schema([
    ("rejection_id", pa.string()),
    ("source_uri", pa.string()),
    ("reason", pa.string()),
    ("detail", pa.string()),
    ("stage", pa.string()),
    ("rejected_at", TIMESTAMP),
    ("pipeline_version", pa.string()),
    ("run_id", pa.string()),
])

# Globs that analysts (and newsbeam itself) read; nothing else under the output folder may match them.
ARTICLE_GLOB = "date=*/section=*/*.parquet"
REJECTED_GLOB = "_rejected/*.parquet"

# One row per input file a run has fully committed: what the file was (so a later run can tell it is
# unchanged without reading it) and what became of its captures.
LEDGER_SCHEMA = pa.schema([
    ("path", pa.string()),
    ("size", pa.int64()),
    ("mtime", pa.float64()),
    ("sha256", pa.string()),
    ("captures", pa.int32()),
    ("articles", pa.int32()),
    ("duplicates", pa.int32()),
    ("rejected", pa.int32()),
    ("skipped", pa.int32()),
    ("run_id", pa.string()),
    ("committed_at", TIMESTAMP),
])
LEDGER_GLOB = "_ledger/*.parquet"

# A cache of the keys in committed files (``pipeline/output/key_index.py``): one row per key of an indexed data file,
# with the file's size and modification time when it was indexed (a file that no longer has both is read).
KEY_INDEX_SCHEMA = pa.schema([
    ("file", pa.string()),  # relative to the output folder
    ("size", pa.int64()),
    ("mtime", pa.float64()),
    ("key", pa.string()),
    ("source_uri", pa.string()),
])
