"""The story index: the signatures of committed rows, so copies of one story share a ``story_id`` across runs.

``transforms.stories`` links copies within the rows it is given. A run writes, beside its article files,
``_stories/stories-<run>-*.parquet`` with ``(article_id, story_id, signature)`` of each row it committed
that has a signature; the next run reads them back and groups its own rows against them, so its copy of
an earlier story takes the earlier ``story_id``. Files are written like data files (hidden until
complete, behind the output lock's fence) and only after the run's article files are committed.

Entries are never rewritten: an entry of a row since superseded still names its story, which is what a
later copy should join. An index file that cannot be read is skipped with a warning (its stories start
afresh); deleting ``_stories/`` is safe, it only forgets which stories were seen. Every run reads every
entry (about 1 KB each at 128 permutations).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import pyarrow as pa
from apache_beam.io.filesystem import BeamIOError

from pipeline.output.schema import STORY_INDEX_SCHEMA
from pipeline.output.sink import join, matching_metadata, read_parquet, write_parquet_files

STORY_INDEX_DIR = "_stories"
_MAX_ROWS_PER_FILE = 1 << 20
LOG = logging.getLogger(__name__)

if TYPE_CHECKING:  # datasketch imports scipy: paid where stories are read, not by every importer
    from datasketch import LeanMinHash


def committed_stories(output: str) -> Iterator[tuple[str, str, LeanMinHash]]:
    """``(article_id, story_id, signature)`` of every entry in the output's story index."""
    from datasketch import LeanMinHash

    for meta in matching_metadata(join(output, STORY_INDEX_DIR, "*.parquet")):
        try:
            table = read_parquet(meta.path, STORY_INDEX_SCHEMA.names)
        except (OSError, BeamIOError, pa.ArrowException) as error:
            LOG.warning("story index %s not used (%s); its stories are not joined", meta.path, error)
            continue
        columns = (table.column(name).to_pylist() for name in STORY_INDEX_SCHEMA.names)
        for key, story, signature in zip(*columns, strict=True):
            yield key, story, LeanMinHash.deserialize(signature)


def write_stories(output: str, run_id: str, entries: Iterable[tuple[str, str, LeanMinHash]],
                  fence: Callable[[], None] | None = None) -> list[str]:
    """Commit ``(article_id, story_id, signature)`` entries as index files; their paths."""
    rows = ({"article_id": key, "story_id": story, "signature": _serialized(signature)}
            for key, story, signature in entries)
    return [path for path, _ in write_parquet_files(join(output, STORY_INDEX_DIR), rows, STORY_INDEX_SCHEMA,
                                                    f"stories-{run_id}", _MAX_ROWS_PER_FILE, fence=fence)]


def _serialized(signature: LeanMinHash) -> bytes:
    buffer = bytearray(signature.bytesize())
    signature.serialize(buffer)
    return bytes(buffer)
