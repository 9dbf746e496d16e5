"""The one Arrow schema of newsbeam's output, and its dead-letter twin. Every writer uses these.

``date`` and ``section`` are not stored in the files: they are the Hive partition folders
(``date=YYYY-MM-DD/section=<slug>/``), which DuckDB and pyarrow turn back into typed columns.
"""

from __future__ import annotations

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

# ``text`` as the article writes the entity; ``canonical`` the name all articles give it (a place as the
# gazetteer names it, a person by the full name); ``country_code`` (ISO 3166-1) for places.
ENTITY = pa.struct([("text", pa.string()), ("label", pa.string()), ("count", pa.int32()),
                    ("canonical", pa.string()), ("country_code", pa.string())])

ARTICLE_SCHEMA = pa.schema([
    ("article_id", pa.string()),
    ("url", pa.string()),  # normalised: https, no www., sorted query, no tracking parameters
    ("source_url", pa.string()),  # the URL exactly as captured (WARC-Target-URI, the record's url)
    ("source_uri", pa.string()),
    ("captured_at", TIMESTAMP),
    ("captured_at_source", pa.string()),
    ("published_at", TIMESTAMP),
    ("date_source", pa.string()),
    ("published_precision", pa.string()),  # day / minute / second: how much of published_at the page wrote
    ("section_source", pa.string()),
    ("section_label", pa.string()),  # the page's own section label as written; `section` is its desk
    ("title", pa.string()),
    ("byline", pa.string()),  # as printed
    ("authors", pa.list_(pa.string())),  # the people the byline names, without roles and credits
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
    ("story_id", pa.string()),  # shared by syndicated copies of one story (near-identical bodies)
    ("pipeline_version", pa.string()),
    ("run_id", pa.string()),
])

PARTITION_COLUMNS = ("date", "section")

# Every key an article row may carry: the stored columns and the partition folders. ``build_article`` fills
# all of them but ``GRAPH_COLUMNS``, which the graph adds (story grouping, entities, the run's identity).
ARTICLE_COLUMNS = (*ARTICLE_SCHEMA.names, *PARTITION_COLUMNS)
GRAPH_COLUMNS = ("entities", "entities_model", "story_id", "pipeline_version", "run_id")

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
    ("sidecar", pa.string()),  # size:mtime of the capture's sidecar, part of its identity
    ("captures", pa.int32()),
    ("articles", pa.int32()),
    ("duplicates", pa.int32()),
    ("rejected", pa.int32()),
    ("skipped", pa.int32()),
    ("run_id", pa.string()),
    ("lock_generation", pa.int64()),  # of the output lock the committing run held (see pipeline.output.lock)
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


# The story index (``pipeline/output/story_index.py``): the MinHash signature and story of every committed
# row whose body is long enough to compare, so a later run's copy of a story takes the same ``story_id``.
STORY_INDEX_SCHEMA = pa.schema([
    ("article_id", pa.string()),
    ("story_id", pa.string()),
    ("signature", pa.binary()),  # datasketch LeanMinHash.serialize: seed, then the hash values
    ("bands", pa.list_(pa.int64())),  # the signature's LSH band keys (transforms.stories.band_keys)
    ("band_layout", pa.string()),  # the band layout they were made under, e.g. "25x5"
])


def row_keys(schema: pa.Schema) -> frozenset[str]:
    """The keys a row written with ``schema`` may carry: its columns (and an article's partition folders). A writer
    refuses any other key rather than drop it silently, so row dicts cannot grow a second, implicit schema."""
    return frozenset(ARTICLE_COLUMNS if schema.equals(ARTICLE_SCHEMA) else schema.names)

