"""The story index: the signatures of committed rows, so copies of one story share a ``story_id`` across runs.

``transforms.stories`` links copies within the rows it is given. A run writes, beside its article files,
``_stories/stories-<run>-*.parquet`` with ``(article_id, story_id, signature)`` of each row it committed
that has a signature, and the signature's LSH band keys; the next run reads back only the entries that
share an id or a band key with its own rows (the only ones that can join their stories) and groups its
rows against them, so its copy of an earlier story takes the earlier ``story_id``. The index is scanned
a row group at a time, ids and band keys first; signatures are read only from groups that hold a match,
and only matches are kept, so a run's memory follows its own rows and their matches, not the size of
the output. Files are written like data files (hidden until complete, behind
the output lock's fence) and only after the run's article files are committed.

Entries are never rewritten: an entry of a row since superseded still names its story, which is what a
later copy should join. An index file that cannot be read is skipped with a warning (its stories start
afresh); deleting ``_stories/`` is safe, it only forgets which stories were seen. Entries written under
another band layout (another ``threshold``) or without band keys have their keys computed as they are
read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from apache_beam.io.filesystem import BeamIOError

from pipeline.output.schema import STORY_INDEX_SCHEMA
from pipeline.output.sink import join, matching_metadata, open_parquet, write_parquet_files
from transforms.stories import StorySettings, Wanted, band_keys, band_layout

STORY_INDEX_DIR = "_stories"
_MAX_ROWS_PER_FILE = 1 << 20
_ENTRY = ["article_id", "story_id", "signature"]
LOG = logging.getLogger(__name__)

if TYPE_CHECKING:  # datasketch imports scipy: paid where stories are read, not by every importer
    from datasketch import LeanMinHash


def committed_stories(output: str, settings: StorySettings,
                      wanted: Wanted | None = None) -> Iterator[tuple[str, str, LeanMinHash]]:
    """``(article_id, story_id, signature)`` of the entries in the output's story index: all of them, or
    with ``wanted`` those whose id is among its ids or that share one of its band keys."""
    lookup = _Lookup.of(wanted) if wanted is not None else None
    for meta in matching_metadata(join(output, STORY_INDEX_DIR, "*.parquet")):
        try:
            yield from _entries(meta.path, settings, lookup)
        except (OSError, BeamIOError, pa.ArrowException) as error:
            LOG.warning("story index %s not used (%s); its stories are not joined", meta.path, error)


class _Lookup(NamedTuple):
    """``Wanted`` made ready to test many row groups against: its ids for Arrow, its band keys sorted."""

    wanted: Wanted
    ids: pa.Array
    bands: np.ndarray

    @classmethod
    def of(cls, wanted: Wanted) -> _Lookup:
        return cls(wanted, pa.array(sorted(wanted.ids), pa.string()), np.array(sorted(wanted.bands), dtype=np.int64))

    def has_bands(self, keys: np.ndarray) -> np.ndarray:
        """Which of ``keys`` are among the wanted band keys (a binary search each)."""
        if not len(self.bands):
            return np.zeros(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self.bands, keys), len(self.bands) - 1)
        return self.bands[at] == keys


def _entries(path: str, settings: StorySettings, wanted: _Lookup | None) -> Iterator[tuple[str, str, LeanMinHash]]:
    from datasketch import LeanMinHash

    with open_parquet(path) as parquet:
        probe = ["article_id", *(("bands", "band_layout") if "bands" in parquet.schema_arrow.names else ("signature",))]
        for group in range(parquet.num_row_groups):
            if wanted is None:
                table = parquet.read_row_group(group, columns=_ENTRY)
            else:
                mask = _meets(parquet.read_row_group(group, columns=probe), wanted, settings)
                if not pc.any(mask).as_py():
                    continue
                table = parquet.read_row_group(group, columns=_ENTRY).filter(mask)
            signatures = [LeanMinHash.deserialize(value) for value in table.column("signature").to_pylist()]
            yield from zip(table.column("article_id").to_pylist(), table.column("story_id").to_pylist(), signatures,
                           strict=True)


def _meets(table: pa.Table, wanted: _Lookup, settings: StorySettings) -> pa.Array:
    """Which entries share an id or a band key with ``wanted`` (a boolean mask over ``table``)."""
    by_id = pc.is_in(table.column("article_id"), value_set=wanted.ids)
    layout, _ = band_layout(settings.threshold, settings.num_perm)
    if "bands" in table.column_names and pc.all(pc.equal(table.column("band_layout"), layout)).as_py():
        bands = table.column("bands").combine_chunks()
        hits = wanted.has_bands(pc.list_flatten(bands).to_numpy())
        by_band = np.zeros(len(table), dtype=bool)
        by_band[pc.list_parent_indices(bands).to_numpy()[hits]] = True
    else:  # written without band keys, or under another layout: the keys come from the signatures
        from datasketch import LeanMinHash

        by_band = np.array([not wanted.wanted.bands.isdisjoint(band_keys(LeanMinHash.deserialize(value), settings))
                            for value in table.column("signature").to_pylist()], dtype=bool)
    return pc.or_(by_id, pa.array(by_band))


def write_stories(output: str, run_id: str, entries: Iterable[tuple[str, str, LeanMinHash]],
                  settings: StorySettings, fence: Callable[[], None] | None = None) -> list[str]:
    """Commit ``(article_id, story_id, signature)`` entries, with their band keys, as index files; their paths."""
    layout, _ = band_layout(settings.threshold, settings.num_perm)
    rows = ({"article_id": key, "story_id": story, "signature": _serialized(signature),
             "bands": band_keys(signature, settings), "band_layout": layout}
            for key, story, signature in entries)
    return [path for path, _ in write_parquet_files(join(output, STORY_INDEX_DIR), rows, STORY_INDEX_SCHEMA,
                                                    f"stories-{run_id}", _MAX_ROWS_PER_FILE, fence=fence)]


def _serialized(signature: LeanMinHash) -> bytes:
    buffer = bytearray(signature.bytesize())
    signature.serialize(buffer)
    return bytes(buffer)
