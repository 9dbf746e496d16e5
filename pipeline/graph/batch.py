"""The batch graph: input files in, deduplicated enriched articles, dead letters and a ledger out.

    files | ReadCaptures | CleanAndEnrich | Resolve | AddEntities | WritePartitions (+ RewriteFiles)
                 \\______________/______________ rejected | WriteRejected
    per-file identities + outcome tallies ------------------------------ WriteLedger (after all writes)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import apache_beam as beam

from pipeline.captures import source_file
from pipeline.graph.scope import ReadScope
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
    KeepUrlBearing,
    LedgerRows,
    ReadCaptures,
    Resolve,
    RewriteFile,
    Supersede,
    WithdrawRejections,
    WriteLedger,
    WritePartition,
    count,
    has_url,
    rejection_row,
    replaced_without_url,
)
from pipeline.output.key_index import KeyIndexSettings, KeyReads, committed_rows
from pipeline.output.ledger import InputFile
from pipeline.output.lock import Fence
from pipeline.output.schema import ARTICLE_GLOB, REJECTED_GLOB
from pipeline.output.summary import counters
from pipeline.runtime.worker_watch import failing_when_a_worker_dies
from transforms.identity import article_id
from transforms.stories import StorySettings, group_stories, signature


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
    fence: Fence | None = None  # the output lock's check before each commit (None: the output has no lock)
    earlier: dict[str, int] | None = None  # ledger tallies of the earlier parts of the file this one ends


class Committed(beam.PTransform):
    """``(key, file, source_uri)`` for the rows already committed under the output glob (via ``key_index``).

    With ``meeting`` (a PCollection of this run's new keys) only the rows this run can meet: their key is
    among the new keys, or ``read`` (a ``ReadScope`` test) is true of their capture. Every other committed row can
    neither make a new row a duplicate nor be superseded, and would only fill the joins; without this
    filter each chunk of a long backfill joined every key committed before it.
    """

    def __init__(self, output: str, glob: str, key: str, index: KeyIndexSettings,
                 meeting: beam.PCollection | None = None, read: Callable[[str], bool] | None = None):
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
                       read: Callable[[str], bool] | None):
    """The committed rows whose key is in ``keys`` or whose capture ``read`` is true of."""
    wanted = frozenset(keys)
    for row in _committed(output, glob, column, index):
        if row[0] in wanted or (read is not None and read(row[2])):
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
        new_ids = cleaned.articles | "NewIds" >> beam.FlatMap(_ids_to_meet)
        scope = ReadScope.of(spec.files)
        committed = captures.pipeline | "CommittedArticles" >> Committed(
            spec.output, ARTICLE_GLOB, "article_id", KeyIndexSettings.from_config(spec.cfg), new_ids,
            scope.reads_again)
        rejected = (read["rejected"], cleaned[REJECTED]) | "RejectedHere" >> beam.Flatten()
        superseded = (
            {"articles": cleaned.articles | "ArticlesByUri" >> beam.Map(lambda a: (a["source_uri"], a)),
             "rejected": rejected | "RejectedByUri" >> beam.Map(lambda r: (r.source_uri, None)),
             "committed": committed | "CommittedByUri" >> beam.FlatMap(
                 _keyed_by_capture_if_read, scope)}
            | "JoinByCapture" >> beam.CoGroupByKey()
            | "Supersede" >> beam.ParDo(Supersede()).with_outputs(DROPS, main="articles")
        )
        merged = superseded.articles | "MergeInputKinds" >> MergeInputKinds(spec, committed, scope)
        drops = (superseded[DROPS], merged["drops"]) | "AllDrops" >> beam.Flatten()
        resolved = (
            {"new": merged["articles"] | "ByArticleId" >> beam.Map(lambda a: (a["article_id"], a)),
             "committed": committed | "ById" >> beam.FlatMap(_by_id_unless_read_later, scope),
             "dropped": drops | "DroppedById" >> beam.Map(lambda drop: (drop[1], drop[0]))}
            | "JoinCommitted" >> beam.CoGroupByKey()
            | "Resolve" >> beam.ParDo(Resolve("articles")).with_outputs(OUTCOMES, main="rows")
        )
        entities = spec.cfg["entities"]
        rows = (
            resolved.rows
            | "GroupStories" >> GroupStories(StorySettings(**spec.cfg.get("stories", {})))
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=entities["batch_size"])
            | "AddEntities" >> beam.ParDo(AddEntities(spec.cfg, spec.progress_dir))
        )
        outcomes = (resolved[OUTCOMES], merged["outcomes"]) | "ResolveOutcomes" >> beam.Flatten()
        return {"rows": rows, "rejected": cleaned[REJECTED], "outcomes": outcomes, "drops": drops}


class GroupStories(beam.PTransform):
    """Each row with its ``story_id``: syndicated copies of one story (near-identical bodies, MinHash LSH
    over word shingles, ``transforms.stories``) share one.

    The rows' signatures meet in one group, so copies are found across all the captures of this
    pipeline (a chunk of a run); the rows themselves stay where they are and look their story up.
    """

    def __init__(self, settings: StorySettings):
        super().__init__()
        self.settings = settings

    def expand(self, rows):
        settings = self.settings
        stories = (
            rows
            | "Signatures" >> beam.Map(lambda a: (None, (a["article_id"], signature(a["body"], settings))))
            | "OneGroup" >> beam.GroupByKey()
            | "Cluster" >> beam.FlatMap(lambda group: group_stories(group[1], settings).items())
        )
        return rows | "WithStory" >> beam.Map(
            lambda a, ids: {**a, "story_id": ids[a["article_id"]]}, beam.pvalue.AsDict(stories))


def _ids_to_meet(article: dict):
    """The committed ids a new row can meet: its own, and for a row with URL the ``body:`` id its content
    had as a file without URL (``MergeInputKinds``)."""
    yield article["article_id"]
    if has_url(article):
        yield article_id(None, article["body"])


class MergeInputKinds(beam.PTransform):
    """One article, one row, whatever the input kind: the same content as a file without URL (``body:``
    id) and as a record with URL (``url:`` id) is one article, and the URL-bearing row wins.

    In this run and against rows committed earlier: a new ``body:`` row is a duplicate when a new or
    committed row has its ``content_hash`` (``KeepUrlBearing``); a committed ``body:`` row whose content a
    new ``url:`` row carries is dropped from its file (``drops``, as superseded rows are). Takes the
    committed ``(article_id, file, source_uri)`` rows of ``BuildArticles``; returns ``articles``,
    ``drops`` and ``outcomes``.
    """

    def __init__(self, spec: RunSpec, committed: beam.PCollection, scope: ReadScope):
        super().__init__()
        self.spec, self.committed, self.scope = spec, committed, scope

    def expand(self, articles):
        spec, scope = self.spec, self.scope
        without_url = articles | "WithoutUrl" >> beam.Filter(lambda a: not has_url(a))
        committed_content = (
            articles.pipeline
            | "CommittedContent" >> Committed(
                spec.output, ARTICLE_GLOB, "content_hash", KeyIndexSettings.from_config(spec.cfg),
                without_url | "NewContent" >> beam.Map(lambda a: a["content_hash"]), scope.reads_again)
            | "NotReadAgain" >> beam.Filter(lambda row: not scope.reads_again(row[2]))
        )
        kept = (
            {"new": articles | "ByContent" >> beam.Map(lambda a: (a["content_hash"], a)),
             "committed": committed_content | "CommittedByContent" >> beam.Map(lambda row: (row[0], row[1]))}
            | "JoinContent" >> beam.CoGroupByKey()
            | "KeepUrlBearing" >> beam.ParDo(KeepUrlBearing()).with_outputs(OUTCOMES, main="articles")
        )
        drops = (
            {"with_url": kept.articles | "UrlRowsByBodyId" >> beam.FlatMap(_body_id_of_url_row),
             "committed": self.committed | "BodyRowsById" >> beam.FlatMap(_committed_body_row, scope)}
            | "JoinBodyIds" >> beam.CoGroupByKey()
            | "ReplacedWithoutUrl" >> beam.FlatMap(replaced_without_url)
        )
        return {"articles": kept.articles, "drops": drops, "outcomes": kept[OUTCOMES]}


def _body_id_of_url_row(article: dict):
    if has_url(article):
        yield article_id(None, article["body"]), None


def _committed_body_row(row: tuple[str, str, str], scope: ReadScope):
    """A committed ``body:`` row as ``(id, file)``, unless its capture is read again in this run (then
    ``Supersede`` decides)."""
    key, path, source_uri = row
    if key.startswith("body:") and not scope.reads_again(source_uri):
        yield key, path


def _keyed_by_capture_if_read(row: tuple[str, str, str], scope: ReadScope):
    """A committed ``(key, file, source_uri)`` row keyed by its capture, when that capture is read in this
    pipeline: no other row can be superseded, and the join then holds only these."""
    if scope.reads(row[2]):
        yield row[2], (row[1], row[0])


def _by_id_unless_read_later(row: tuple[str, str, str], scope: ReadScope):
    """A committed row as ``(id, file)`` for ``Resolve``, unless a later part of its file, read by a later
    pipeline of this run, is where its capture is judged (it must not make a new row a duplicate here)."""
    if not scope.reads_later(row[2]):
        yield row[0], row[1]


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
                spec.output, spec.run_id, out_cfg["max_rows_per_file"], out_cfg["compression"],
                fence=spec.fence)).with_outputs(
                OUTCOMES, main="paths")
        )
        rewritten = (
            {"drops": built["drops"], "rows": in_place | "ByOldFile" >> beam.Map(lambda a: (a[REPLACES], _strip(a)))}
            | "GroupOldFiles" >> beam.CoGroupByKey()
            | "RewriteFiles" >> beam.ParDo(RewriteFile(spec.fence), written=beam.pvalue.AsList(written.paths))
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
                         new | "NewIds" >> beam.Keys(), ReadScope.of(spec.files).reads)
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
                spec.output, spec.run_id, out_cfg["max_rows_per_file"], out_cfg["compression"], rejected=True,
                fence=spec.fence))
        )
        rewritten = (
            kept[WITHDRAWN]
            | "ByFile" >> beam.GroupByKey()
            | "Withdraw" >> beam.ParDo(WithdrawRejections(spec.fence), beam.pvalue.AsList(written),
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
            | "LedgerRows" >> beam.ParDo(LedgerRows(spec.run_id, spec.fence.generation if spec.fence else None,
                                                 spec.earlier))
            | "OneGroup" >> beam.Map(lambda row: (None, row))
            | "Group" >> beam.GroupByKey()
            | "Commit" >> beam.ParDo(WriteLedger(spec.output, spec.run_id, spec.fence),
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
