"""The composites the batch and the streaming graph share, so the two modes cannot drift apart.

Each wires the DoFns of ``stages`` the one way both graphs need them: entities in batches, rows keyed
by partition, rejections as dead-letter rows, and the partition writers.
"""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam

from pipeline.captures import source_file
from pipeline.graph.stages import OUTCOMES, AddEntities, Resolved, WritePartition, count, rejection_row
from pipeline.output.lock import Fence
from transforms.records import Rejection


class AddEntitiesInBatches(beam.PTransform):
    """``Resolved`` rows with their named entities, recognised ``batch_size`` rows at a time (one
    ``nlp.pipe`` call per language in a batch is what makes recognition affordable)."""

    def __init__(self, cfg: dict, progress_dir: str | None = None):
        super().__init__()
        self.cfg, self.progress_dir = cfg, progress_dir

    def expand(self, resolved):
        return (
            resolved
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.cfg["entities"]["batch_size"])
            | "Recognise" >> beam.ParDo(AddEntities(self.cfg, self.progress_dir))
        )


def by_partition(resolved: Resolved) -> tuple[tuple[str, str], dict]:
    """A row keyed by its ``(date, section)`` partition, the key ``WritePartitions`` groups article rows by."""
    return (resolved.row["date"].isoformat(), resolved.row["section"]), resolved.row


class RejectionRows(beam.DoFn):
    """A rejection to its dead-letter row keyed by ``rejection_id``, counted by reason; its input file's
    ``rejected`` tally leaves as ``outcomes`` for the ledger."""

    def __init__(self, run_id: str, version: str):
        self.run_id, self.version = run_id, version

    def process(self, rejection: Rejection) -> Iterator:
        count("rejected")
        count(f"rejected.{rejection.reason}")
        yield beam.pvalue.TaggedOutput(OUTCOMES, (source_file(rejection.source_uri), {"rejected": 1}))
        row = rejection_row(rejection, self.run_id, self.version)
        yield row["rejection_id"], row


class WritePartitions(beam.PTransform):
    """Keyed rows into atomic Parquet files, one group per key: a ``date=/section=`` partition (keys from
    ``by_partition``), or ``_rejected/`` with ``rejected`` (any single key).

    Returns ``paths`` (the committed files) and ``outcomes`` (articles written per input file); in a
    windowed stream each pane of a key is written on its own.
    """

    def __init__(self, output: str, run_id: str, out_cfg: dict, rejected: bool = False, fence: Fence | None = None):
        super().__init__()
        self.writer = WritePartition(output, run_id, out_cfg["max_rows_per_file"], out_cfg["compression"],
                                     rejected=rejected, fence=fence)

    def expand(self, keyed):
        return (keyed
                | "Group" >> beam.GroupByKey()
                | "Write" >> beam.ParDo(self.writer).with_outputs(OUTCOMES, main="paths"))
