"""The batch graph: input files in, deduplicated enriched articles, dead letters and a ledger out.

    files | ReadCaptures | CleanAndEnrich | Resolve | AddEntities | WritePartitions (+ RewriteFiles)
                 \\______________/______________ rejected | WriteRejected
    per-file identities + outcome tallies ------------------------------ WriteLedger (after all writes)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import apache_beam as beam

from pipeline.captures import source_file
from pipeline.graph.stages import (
    DROPS,
    FILES,
    OUTCOMES,
    REJECTED,
    REPLACES,
    SKIPPED,
    WITHDRAWN,
    AddEntities,
    CleanAndEnrich,
    KeepNewRejections,
    LedgerRows,
    ReadCaptures,
    Resolve,
    RewriteFile,
    Supersede,
    WithdrawRejections,
    WriteLedger,
    WritePartition,
    count,
    rejection_row,
)
from pipeline.output.key_index import KeyIndexSettings, KeyReads, committed_rows
from pipeline.output.ledger import InputFile
from pipeline.output.schema import ARTICLE_GLOB, REJECTED_GLOB
from pipeline.output.summary import counters
from pipeline.runtime.worker_watch import failing_when_a_worker_dies


@dataclass(frozen=True)
class RunSpec:
    """What one batch run does: its inputs, output, settings and identity."""

    files: list[InputFile]
    output: str
    cfg: dict
    run_id: str
    version: str
    reprocess: bool = False
    since: datetime | None = None
    until: datetime | None = None
    progress_dir: str | None = None


class Committed(beam.PTransform):
    """``(key, file, source_uri)`` for the rows already committed under the output glob (via ``key_index``).

    With ``meeting`` (a PCollection of this run's new keys) only the rows this run can meet: their key is
    among the new keys, or their capture's input file among ``read``. Every other committed row can
    neither make a new row a duplicate nor be superseded, and would only fill the joins; without this
    filter each chunk of a long backfill joined every key committed before it.
    """

    def __init__(self, output: str, glob: str, key: str, index: KeyIndexSettings,
                 meeting: beam.PCollection | None = None, read: frozenset[str] = frozenset()):
        super().__init__()
        self.output, self.glob, self.key, self.index = output, glob, key, index
        self.meeting, self.read = meeting, read

    def expand(self, pbegin):
        glob, key, index = self.glob, self.key, self.index
        output = pbegin | "Output" >> beam.Create([self.output])
        if self.meeting is None:
            return output | "Rows" >> beam.FlatMap(_committed, glob, key, index)
        return output | "Rows" >> beam.FlatMap(_committed_meeting, glob, key, index,
                                               beam.pvalue.AsList(self.meeting), self.read)


def _committed(output: str, glob: str, column: str, index: KeyIndexSettings):
    """Every committed row; counts the files whose keys came from the index and those read."""
    reads = KeyReads()
    yield from committed_rows(output, glob, column, index, reads)
    count("committed_files.indexed", reads.indexed)
    count("committed_files.read", reads.read)


def _committed_meeting(output: str, glob: str, column: str, index: KeyIndexSettings, keys: list[str],
                       read: frozenset[str]):
    """The committed rows whose key is in ``keys`` or whose capture's input file is in ``read``."""
    wanted = frozenset(keys)
    for row in _committed(output, glob, column, index):
        if row[0] in wanted or source_file(row[2]) in read:
            yield row


class ReadFiles(beam.PTransform):
    """Input files to captures (main), ``rejected``, per-file ``outcomes`` and file identities."""

    def __init__(self, spec: RunSpec):
        super().__init__()
        self.spec = spec

    def expand(self, pbegin):
        spec = self.spec
        return (
            pbegin
            | "Files" >> beam.Create(spec.files)
            | "SpreadFiles" >> beam.Reshuffle()
            | "Read" >> beam.ParDo(ReadCaptures(
                spec.cfg["read"], spec.since, spec.until, spec.progress_dir)).with_outputs(
                REJECTED, OUTCOMES, FILES, SKIPPED, main="captures")
        )


class BuildArticles(beam.PTransform):
    """Captures to enriched, resolved article rows; also ``rejected``, ``outcomes`` and ``drops``.

    A committed row is superseded when its capture (``source_uri``) is processed again in this run: a
    rewritten file, or ``--reprocess``. Superseded rows are dropped from their old files (``drops``);
    a key whose committed rows are all superseded is written anew, any other committed key makes the
    new row a duplicate.
    """

    def __init__(self, spec: RunSpec):
        super().__init__()
        self.spec = spec

    def expand(self, read):
        spec = self.spec
        captures = read["captures"]
        cleaned = captures | "CleanAndEnrich" >> beam.ParDo(
            CleanAndEnrich(spec.cfg, spec.run_id, spec.version, spec.progress_dir)).with_outputs(
            REJECTED, main="articles")
        new_ids = cleaned.articles | "NewIds" >> beam.Map(lambda a: a["article_id"])
        read_files = frozenset(f.path for f in spec.files)
        committed = captures.pipeline | "CommittedArticles" >> Committed(
            spec.output, ARTICLE_GLOB, "article_id", KeyIndexSettings.from_config(spec.cfg), new_ids, read_files)
        rejected = (read["rejected"], cleaned[REJECTED]) | "RejectedHere" >> beam.Flatten()
        superseded = (
            {"articles": cleaned.articles | "ArticlesByUri" >> beam.Map(lambda a: (a["source_uri"], a)),
             "rejected": rejected | "RejectedByUri" >> beam.Map(lambda r: (r.source_uri, None)),
             "committed": committed | "CommittedByUri" >> beam.FlatMap(
                 _keyed_by_capture_if_read, read_files)}
            | "JoinByCapture" >> beam.CoGroupByKey()
            | "Supersede" >> beam.ParDo(Supersede()).with_outputs(DROPS, main="articles")
        )
        drops = superseded[DROPS]
        resolved = (
            {"new": superseded.articles | "ByArticleId" >> beam.Map(lambda a: (a["article_id"], a)),
             "committed": committed | "ById" >> beam.Map(lambda row: (row[0], row[1])),
             "dropped": drops | "DroppedById" >> beam.Map(lambda drop: (drop[1], drop[0]))}
            | "JoinCommitted" >> beam.CoGroupByKey()
            | "Resolve" >> beam.ParDo(Resolve("articles")).with_outputs(OUTCOMES, main="rows")
        )
        entities = spec.cfg["entities"]
        rows = (
            resolved.rows
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=entities["batch_size"])
            | "AddEntities" >> beam.ParDo(AddEntities(spec.cfg, spec.progress_dir))
        )
        return {"rows": rows, "rejected": cleaned[REJECTED], "outcomes": resolved[OUTCOMES], "drops": drops}


def _keyed_by_capture_if_read(row: tuple[str, str, str], read: frozenset[str]):
    """A committed ``(key, file, source_uri)`` row keyed by its capture, when that capture's input file is
    read in this pipeline: no other row can be superseded, and the join then holds only these."""
    if source_file(row[2]) in read:
        yield row[2], (row[1], row[0])


class WriteArticles(beam.PTransform):
    """Rows into ``date=/section=`` partitions; replacements folded into their old files afterwards.

    A replacement row whose partition is its old file's goes into that file's atomic rewrite (readers
    see old or new, never both); any other row is written to new files first.
    """

    def __init__(self, spec: RunSpec):
        super().__init__()
        self.spec = spec

    def expand(self, built):
        spec, out_cfg = self.spec, self.spec.cfg["output"]
        routed = built["rows"] | "Route" >> beam.Partition(_route, 2)
        fresh, in_place = routed[0], routed[1]
        written = (
            fresh
            | "ByPartition" >> beam.Map(lambda a: ((a["date"].isoformat(), a["section"]), _strip(a)))
            | "GroupPartitions" >> beam.GroupByKey()
            | "WritePartitions" >> beam.ParDo(WritePartition(
                spec.output, spec.run_id, out_cfg["max_rows_per_file"], out_cfg["compression"])).with_outputs(
                OUTCOMES, main="paths")
        )
        rewritten = (
            {"drops": built["drops"], "rows": in_place | "ByOldFile" >> beam.Map(lambda a: (a[REPLACES], _strip(a)))}
            | "GroupOldFiles" >> beam.CoGroupByKey()
            | "RewriteFiles" >> beam.ParDo(RewriteFile(), written=beam.pvalue.AsList(written.paths))
        )
        outcomes = (written[OUTCOMES], rewritten) | "ArticleOutcomes" >> beam.Flatten()
        return {"paths": written.paths, "outcomes": outcomes}


def _route(row: dict, _partitions: int) -> int:
    """1 when the row goes into the atomic rewrite of an old file of its partition, else 0."""
    return int(REPLACES in row)


def _strip(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != REPLACES}


class WriteRejected(beam.PTransform):
    """Rejections into ``_rejected/``, one row per capture and reason across runs; tallies per file.

    A capture read again (a rewritten file, ``--reprocess``) is judged anew: the committed rejections it
    no longer earns are withdrawn from their files, after this run's article files (``after``) and
    dead-letter files are committed. ``paths`` covers both, for the ledger to wait on.
    """

    def __init__(self, spec: RunSpec, after: beam.PCollection, skipped: beam.PCollection):
        super().__init__()
        self.spec = spec
        self.after, self.skipped = after, skipped

    def expand(self, rejected):
        spec, out_cfg = self.spec, self.spec.cfg["output"]
        counted = rejected | "CountRejections" >> beam.ParDo(_CountRejection()).with_outputs(OUTCOMES, main="rows")
        new = counted.rows | "RejectionRows" >> beam.Map(_keyed_rejection, spec.run_id, spec.version)
        committed = (rejected.pipeline | "CommittedRejections" >> Committed(
                         spec.output, REJECTED_GLOB, "rejection_id", KeyIndexSettings.from_config(spec.cfg),
                         new | "NewIds" >> beam.Keys(), frozenset(f.path for f in spec.files))
                     | "ById" >> beam.Map(lambda row: (row[0], (row[1], row[2]))))
        skipped = beam.pvalue.AsDict(self.skipped | "SkippedUris" >> beam.Map(lambda uri: (uri, None)))
        kept = (
            {"new": new, "committed": committed}
            | "JoinCommitted" >> beam.CoGroupByKey()
            | "KeepNew" >> beam.ParDo(KeepNewRejections(), skipped).with_outputs(WITHDRAWN, main="rows")
        )
        written = (
            kept.rows
            | "OneGroup" >> beam.Map(lambda row: (None, row))
            | "Group" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(WritePartition(
                spec.output, spec.run_id, out_cfg["max_rows_per_file"], out_cfg["compression"], rejected=True))
        )
        rewritten = (
            kept[WITHDRAWN]
            | "ByFile" >> beam.GroupByKey()
            | "Withdraw" >> beam.ParDo(WithdrawRejections(), beam.pvalue.AsList(written),
                                       beam.pvalue.AsList(self.after))
        )
        paths = (written, rewritten) | "Paths" >> beam.Flatten()
        return {"paths": paths, "outcomes": counted[OUTCOMES]}


def _keyed_rejection(rejection, run_id: str, version: str) -> tuple[str, dict]:
    row = rejection_row(rejection, run_id, version)
    return row["rejection_id"], row


class _CountRejection(beam.DoFn):
    def process(self, rejection):
        count("rejected")
        count(f"rejected.{rejection.reason}")
        yield beam.pvalue.TaggedOutput(OUTCOMES, (source_file(rejection.source_uri), {"rejected": 1}))
        yield rejection


class WriteLedgerAfter(beam.PTransform):
    """Ledger rows from file identities and outcome tallies, committed after all other writes."""

    def __init__(self, spec: RunSpec, barriers: list):
        super().__init__()
        self.spec = spec
        self.barriers = barriers

    def expand(self, parts):
        spec, barriers = self.spec, self.barriers
        return (
            parts
            | "JoinOutcomes" >> beam.CoGroupByKey()
            | "LedgerRows" >> beam.ParDo(LedgerRows(spec.run_id))
            | "OneGroup" >> beam.Map(lambda row: (None, row))
            | "Group" >> beam.GroupByKey()
            | "Commit" >> beam.ParDo(WriteLedger(spec.output, spec.run_id),
                                     *[beam.pvalue.AsList(b) for b in barriers])
        )


def build_pipeline(pipeline: beam.Pipeline, spec: RunSpec) -> None:
    """Wire the whole batch job into ``pipeline``."""
    read = pipeline | "ReadFiles" >> ReadFiles(spec)
    built = {"captures": read.captures, "rejected": read[REJECTED]} | "BuildArticles" >> BuildArticles(spec)
    articles = built | "WriteArticles" >> WriteArticles(spec)
    rejected = ((read[REJECTED], built["rejected"]) | "AllRejections" >> beam.Flatten()
                | "WriteRejected" >> WriteRejected(spec, articles["paths"], read[SKIPPED]))
    outcomes = ((read[OUTCOMES], built["outcomes"], articles["outcomes"], rejected["outcomes"])
                | "AllOutcomes" >> beam.Flatten())
    barriers = [articles["paths"], rejected["paths"]]
    _ = {"file": read[FILES], "outcomes": outcomes} | "WriteLedger" >> WriteLedgerAfter(spec, barriers)


def execute(spec: RunSpec, options: beam.options.pipeline_options.PipelineOptions) -> dict[str, int]:
    """Run the batch graph for ``spec`` to completion; return its newsbeam counters."""
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, spec)
    with failing_when_a_worker_dies():
        result = pipeline.run()
        result.wait_until_finish()
    return counters(result)
