"""The batch graph: captures in, deduplicated enriched articles and dead letters out.

    files | ReadCaptures | CleanAndEnrich | Deduplicate | AddEntities | WritePartitions
                 \\______________/___________________________________ rejected | WriteRejected
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.fileio import EmptyMatchTreatment

from pipeline.captures import is_capture_path
from pipeline.schema import ARTICLE_GLOB, REJECTED_GLOB
from pipeline.sink import committed_keys
from pipeline.stages import (
    REJECTED,
    AddEntities,
    CleanAndEnrich,
    KeepFirstNew,
    ReadCaptures,
    WritePartition,
    count,
    rejection_row,
)


class ReadInputs(beam.PTransform):
    """File patterns to captures (main output) and rejections (``rejected``)."""

    def __init__(self, patterns: list[str], read_config_path: str):
        super().__init__()
        self.patterns = patterns
        self.read_config_path = read_config_path

    def expand(self, pbegin):
        return (
            pbegin
            | "Patterns" >> beam.Create(self.patterns)
            | "Match" >> fileio.MatchAll(EmptyMatchTreatment.ALLOW)
            | "Paths" >> beam.Map(lambda metadata: metadata.path)
            | "CapturesOnly" >> beam.Filter(is_capture_path)
            | "Distinct" >> beam.Distinct()
            | "SpreadFiles" >> beam.Reshuffle()
            | "Read" >> beam.ParDo(ReadCaptures(self.read_config_path)).with_outputs(REJECTED, main="captures")
        )


class Deduplicate(beam.PTransform):
    """One row per key: drops repeats within the run and keys already committed in ``output``."""

    def __init__(self, output: str, glob: str, key: str, what: str):
        super().__init__()
        self.output, self.glob, self.key, self.what = output, glob, key, what

    def expand(self, rows):
        output, glob, key = self.output, self.glob, self.key
        committed = (
            rows.pipeline
            | "Output" >> beam.Create([output])
            | "CommittedKeys" >> beam.FlatMap(lambda out: ((k, True) for k in committed_keys(out, glob, key)))
        )
        new = rows | "ByKey" >> beam.Map(lambda row: (row[key], row))
        return (
            {"new": new, "committed": committed}
            | "Join" >> beam.CoGroupByKey()
            | "KeepFirstNew" >> beam.ParDo(KeepFirstNew(self.what))
        )


class BuildArticles(beam.PTransform):
    """Files to enriched, deduplicated article rows; rejections leave through ``rejected``."""

    def __init__(self, patterns: list[str], output: str, cfg: dict, run_id: str, version: str):
        super().__init__()
        self.patterns, self.output, self.cfg, self.run_id, self.version = patterns, output, cfg, run_id, version

    def expand(self, pbegin):
        read = pbegin | "ReadInputs" >> ReadInputs(self.patterns, self.cfg["read_path"])
        cleaned = read.captures | "CleanAndEnrich" >> beam.ParDo(
            CleanAndEnrich(self.cfg, self.run_id, self.version)).with_outputs(REJECTED, main="articles")
        entities = self.cfg["entities"]
        articles = (
            cleaned.articles
            | "Deduplicate" >> Deduplicate(self.output, ARTICLE_GLOB, "article_id", "articles")
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=entities["batch_size"])
            | "AddEntities" >> beam.ParDo(AddEntities(entities))
        )
        rejected = (read[REJECTED], cleaned[REJECTED]) | "AllRejections" >> beam.Flatten()
        return articles, rejected


class WriteOutput(beam.PTransform):
    """Articles into ``date=/section=`` partitions and rejections into ``_rejected/``, atomically."""

    def __init__(self, output: str, run_id: str, version: str, output_cfg: dict):
        super().__init__()
        self.output, self.run_id, self.version = output, run_id, version
        self.max_rows = output_cfg["max_rows_per_file"]
        self.compression = output_cfg["compression"]

    def expand(self, pcolls):
        articles, rejected = pcolls
        run_id, version = self.run_id, self.version
        written = (
            articles
            | "ByPartition" >> beam.Map(lambda a: ((a["date"].isoformat(), a["section"]), a))
            | "GroupPartitions" >> beam.GroupByKey()
            | "WritePartitions" >> beam.ParDo(
                WritePartition(self.output, run_id, self.max_rows, self.compression))
        )
        dead = (
            rejected
            | "CountRejections" >> beam.Map(_count_rejection)
            | "RejectionRows" >> beam.Map(lambda r: rejection_row(r, run_id, version))
            | "DeduplicateRejections" >> Deduplicate(self.output, REJECTED_GLOB, "rejection_id", "rejections")
            | "OneGroup" >> beam.Map(lambda row: (None, row))
            | "GroupRejections" >> beam.GroupByKey()
            | "WriteRejected" >> beam.ParDo(
                WritePartition(self.output, run_id, self.max_rows, self.compression, rejected=True))
        )
        return written, dead


def _count_rejection(rejection):
    count("rejected")
    count(f"rejected.{rejection.reason}")
    return rejection


def build_pipeline(pipeline: beam.Pipeline, patterns: list[str], output: str, cfg: dict, run_id: str,
                   version: str) -> None:
    """Wire the whole batch job into ``pipeline``."""
    outputs = pipeline | "BuildArticles" >> BuildArticles(patterns, output, cfg, run_id, version)
    _ = outputs | "WriteOutput" >> WriteOutput(output, run_id, version, cfg["output"])
