"""The batch graph: input files in, deduplicated enriched articles, dead letters and a ledger out.

    files | ReadCaptures | CleanAndEnrich | Supersede | MergeInputKinds | Resolve | GroupStories
          | AddEntitiesInBatches | WritePartitions (+ RewriteFiles) | WriteStoryIndex
                 \\______________/______________ rejected | WriteRejected
    per-file identities + outcome tallies ------------------------------ WriteLedger (after all writes)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import apache_beam as beam

from pipeline.graph.composites import AddEntitiesInBatches, RejectionRows, WritePartitions, by_partition
from pipeline.graph.scope import ReadScope
from pipeline.graph.stages import (
    DROPS,
    FILES,
    OLD_FILES,
    OUTCOMES,
    REJECTED,
    SKIPPED,
    WITHDRAWN,
    CleanAndEnrich,
    Drop,
    KeepNewRejections,
    KeepUrlBearing,
    LedgerRows,
    ReadCaptures,
    Resolve,
    Resolved,
    RewriteFile,
    Supersede,
    WithdrawRejections,
    WriteLedger,
    count,
    has_url,
    replaced_without_url,
)
from pipeline.output.key_index import CommittedRow, KeyIndexSettings, KeyReads, committed_rows
from pipeline.output.ledger import InputFile
from pipeline.output.lock import Fence
from pipeline.output.schema import ARTICLE_GLOB, REJECTED_GLOB
from pipeline.output.story_index import committed_stories, write_stories
from pipeline.output.summary import counters
from pipeline.runtime.worker_watch import failing_when_a_worker_dies
from transforms.identity import article_id
from transforms.stories import StorySettings, group_stories, signature, wanted

if TYPE_CHECKING:
    from datasketch import LeanMinHash


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


class CommittedRows(beam.PTransform):
    """A ``CommittedRow`` for each row already committed under the output glob (via ``key_index``).

    With ``new_keys`` (a PCollection of this run's new keys) only the rows this run can meet: their key is
    among the new keys, or ``read`` (a ``ReadScope`` test) is true of their capture. Every other committed row can
    neither make a new row a duplicate nor be superseded, and would only fill the joins; without this
    filter each chunk of a long backfill joined every key committed before it.
    """

    def __init__(self, output: str, glob: str, key: str, index: KeyIndexSettings,
                 new_keys: beam.PCollection | None = None, read: Callable[[str], bool] | None = None):
        super().__init__()
        self.output, self.glob, self.key, self.index = output, glob, key, index
        self.new_keys, self.read = new_keys, read

    def expand(self, pbegin):
        glob, key, index = self.glob, self.key, self.index
        output = pbegin | "Output" >> beam.Create([self.output])
        if self.new_keys is None:
            return output | "Rows" >> beam.FlatMap(_committed, glob, key, index)
        return output | "Rows" >> beam.FlatMap(_committed_met, glob, key, index,
                                               beam.pvalue.AsList(self.new_keys), self.read)


def _committed(output: str, glob: str, column: str, index: KeyIndexSettings) -> Iterator[CommittedRow]:
    """Every committed row; counts the files whose keys came from the index and those read."""
    reads = KeyReads()
    yield from committed_rows(output, glob, column, index, reads)
    count("committed_files.indexed", reads.indexed)
    count("committed_files.read", reads.read)


def _committed_met(output: str, glob: str, column: str, index: KeyIndexSettings, keys: list[str],
                   read: Callable[[str], bool] | None) -> Iterator[CommittedRow]:
    """The committed rows whose key is in ``keys`` or whose capture ``read`` is true of."""
    wanted = frozenset(keys)
    for row in _committed(output, glob, column, index):
        if row.key in wanted or (read is not None and read(row.source_uri)):
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
    """Captures to enriched ``Resolved`` article rows; also ``rejected``, ``outcomes`` and ``drops``.

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
        committed = captures.pipeline | "CommittedArticles" >> CommittedRows(
            spec.output, ARTICLE_GLOB, "article_id", KeyIndexSettings.from_config(spec.cfg), new_ids,
            scope.reads_again)
        rejected = (read["rejected"], cleaned[REJECTED]) | "RejectedHere" >> beam.Flatten()
        superseded = (
            {"articles": cleaned.articles | "ArticlesByUri" >> beam.Map(lambda a: (a["source_uri"], a)),
             "rejected": rejected | "RejectedByUri" >> beam.Map(lambda r: (r.source_uri, None)),
             "committed": committed | "CommittedByUri" >> beam.FlatMap(
                 _keyed_by_capture_if_read, scope)}
            | "JoinByCapture" >> beam.CoGroupByKey()
            | "Supersede" >> beam.ParDo(Supersede()).with_outputs(DROPS, OLD_FILES, main="articles")
        )
        merged = superseded.articles | "MergeInputKinds" >> MergeInputKinds(spec, committed, scope)
        drops = (superseded[DROPS], merged["drops"]) | "AllDrops" >> beam.Flatten()
        resolved = (
            {"new": merged["articles"] | "ByArticleId" >> beam.Map(lambda a: (a["article_id"], a)),
             "committed": committed | "ById" >> beam.FlatMap(_by_id_unless_read_later, scope),
             "dropped": drops | "DroppedById" >> beam.Map(lambda drop: (drop.article_id, drop.file)),
             "old_files": superseded[OLD_FILES]}
            | "JoinCommitted" >> beam.CoGroupByKey()
            | "Resolve" >> beam.ParDo(Resolve("articles")).with_outputs(OUTCOMES, main="rows")
        )
        stories = resolved.rows | "GroupStories" >> GroupStories(
            StorySettings(**spec.cfg.get("stories", {})), spec.output)
        rows = stories["rows"] | "AddEntities" >> AddEntitiesInBatches(spec.cfg, spec.progress_dir)
        outcomes = (resolved[OUTCOMES], merged["outcomes"]) | "ResolveOutcomes" >> beam.Flatten()
        return {"rows": rows, "rejected": cleaned[REJECTED], "outcomes": outcomes, "drops": drops,
                "stories": stories["entries"]}


class GroupStories(beam.PTransform):
    """Each ``Resolved`` row with its ``story_id`` (``rows``): syndicated copies of one story (near-identical
    bodies, MinHash LSH over word shingles, ``transforms.stories``) share one. Also the story index
    ``entries`` ``(article_id, story_id, signature)`` of the rows with a signature, each computed once.

    The rows' signatures meet in one group, so copies are found across all the captures of this
    pipeline (a chunk of a run) and, with ``output``, against the entries of the output's story index
    (``pipeline.output.story_index``) that share an id or a band key with them; the rows themselves stay
    where they are and look their story up.
    """

    def __init__(self, settings: StorySettings, output: str | None = None):
        super().__init__()
        self.settings, self.output = settings, output

    def expand(self, rows):
        settings = self.settings
        stories = (
            rows
            | "Signatures" >> beam.Map(lambda r: (None, (r.row["article_id"], signature(r.row["body"], settings))))
            | "OneGroup" >> beam.GroupByKey()
            | "Cluster" >> beam.FlatMap(_cluster, settings, self.output)
        )
        with_story = rows | "WithStory" >> beam.Map(
            lambda r, ids: r._replace(row={**r.row, "story_id": ids[r.row["article_id"]]}),
            beam.pvalue.AsDict(stories | "Names" >> beam.Map(lambda entry: entry[:2])))
        entries = stories | "Comparable" >> beam.Filter(lambda entry: entry[2] is not None)
        return {"rows": with_story, "entries": entries}


def _cluster(group: tuple[None, Iterable[tuple[str, LeanMinHash | None]]], settings: StorySettings,
             output: str | None) -> Iterator[tuple[str, str, LeanMinHash | None]]:
    """``(article_id, story_id, signature)`` of every new row, grouped among themselves and the earlier
    entries they meet."""
    signatures = list(group[1])
    earlier = committed_stories(output, settings, wanted(signatures, settings)) if output else ()
    names = group_stories(signatures, settings, earlier)
    for key, minhash in signatures:
        yield key, names[key], minhash


class WriteStoryIndex(beam.PTransform):
    """``GroupStories``'s entries of the written rows into the output's story index, once the run's article
    files (``after``) are committed; the index files' paths."""

    def __init__(self, spec: RunSpec, after: beam.PCollection):
        super().__init__()
        self.spec, self.after = spec, after

    def expand(self, entries):
        spec, settings = self.spec, StorySettings(**self.spec.cfg.get("stories", {}))
        return (
            entries
            | "OneGroup" >> beam.Map(lambda entry: (None, entry))
            | "Group" >> beam.GroupByKey()
            | "Write" >> beam.FlatMap(lambda group, _after: write_stories(spec.output, spec.run_id, group[1],
                                                                          settings, spec.fence),
                                      beam.pvalue.AsList(self.after))
        )


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
    committed article rows (``CommittedRow``) of ``BuildArticles``; returns ``articles``, ``drops`` and
    ``outcomes``.
    """

    def __init__(self, spec: RunSpec, committed: beam.PCollection, scope: ReadScope):
        super().__init__()
        self.spec, self.committed, self.scope = spec, committed, scope

    def expand(self, articles):
        spec, scope = self.spec, self.scope
        without_url = articles | "WithoutUrl" >> beam.Filter(lambda a: not has_url(a))
        committed_content = (
            articles.pipeline
            | "CommittedContent" >> CommittedRows(
                spec.output, ARTICLE_GLOB, "content_hash", KeyIndexSettings.from_config(spec.cfg),
                without_url | "NewContent" >> beam.Map(lambda a: a["content_hash"]), scope.reads_again)
            | "NotReadAgain" >> beam.Filter(lambda row: not scope.reads_again(row.source_uri))
        )
        kept = (
            {"new": articles | "ByContent" >> beam.Map(lambda a: (a["content_hash"], a)),
             "committed": committed_content | "CommittedByContent" >> beam.Map(lambda row: (row.key, row.file))}
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


def _committed_body_row(row: CommittedRow, scope: ReadScope):
    """A committed ``body:`` row as ``(id, file)``, unless its capture is read again in this run (then
    ``Supersede`` decides)."""
    if row.key.startswith("body:") and not scope.reads_again(row.source_uri):
        yield row.key, row.file


def _keyed_by_capture_if_read(row: CommittedRow, scope: ReadScope):
    """A committed row as the ``Drop`` it becomes if superseded, keyed by its capture, when that capture is
    read in this pipeline: no other row can be superseded, and the join then holds only these."""
    if scope.reads(row.source_uri):
        yield row.source_uri, Drop(row.file, row.key)


def _by_id_unless_read_later(row: CommittedRow, scope: ReadScope):
    """A committed row as ``(id, file)`` for ``Resolve``, unless a later part of its file, read by a later
    pipeline of this run, is where its capture is judged (it must not make a new row a duplicate here)."""
    if not scope.reads_later(row.source_uri):
        yield row.key, row.file


class WriteArticles(beam.PTransform):
    """``Resolved`` rows into ``date=/section=`` partitions; replacements folded into their old files afterwards.

    A replacement row whose partition is its old file's goes into that file's atomic rewrite (readers
    see old or new, never both); any other row is written to new files first.
    """

    def __init__(self, spec: RunSpec):
        super().__init__()
        self.spec = spec

    def expand(self, built):
        spec = self.spec
        split = built["rows"] | "SplitReplacements" >> beam.Partition(_replaces_in_place, 2)
        fresh, in_place = split[0], split[1]
        written = (
            fresh
            | "ByPartition" >> beam.Map(by_partition)
            | "WritePartitions" >> WritePartitions(spec.output, spec.run_id, spec.cfg["output"], fence=spec.fence)
        )
        rewritten = (
            {"drops": built["drops"] | "DropsByFile" >> beam.Map(lambda drop: (drop.file, drop.article_id)),
             "rows": in_place | "ByOldFile" >> beam.Map(lambda r: (r.replaces, r.row))}
            | "GroupOldFiles" >> beam.CoGroupByKey()
            | "RewriteFiles" >> beam.ParDo(RewriteFile(spec.fence), written=beam.pvalue.AsList(written.paths))
        )
        outcomes = (written[OUTCOMES], rewritten) | "ArticleOutcomes" >> beam.Flatten()
        return {"paths": written.paths, "outcomes": outcomes}


def _replaces_in_place(resolved: Resolved, _partitions: int) -> int:
    """1 when the row goes into the atomic rewrite of an old file of its partition, else 0."""
    return int(resolved.replaces is not None)


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
        spec = self.spec
        counted = rejected | "RejectionRows" >> beam.ParDo(
            RejectionRows(spec.run_id, spec.version)).with_outputs(OUTCOMES, main="rows")
        new = counted.rows
        committed = (rejected.pipeline | "CommittedRejections" >> CommittedRows(
                         spec.output, REJECTED_GLOB, "rejection_id", KeyIndexSettings.from_config(spec.cfg),
                         new | "NewIds" >> beam.Keys(), ReadScope.of(spec.files).reads)
                     | "ById" >> beam.Map(lambda row: (row.key, (row.file, row.source_uri))))
        skipped = beam.pvalue.AsDict(self.skipped | "SkippedUris" >> beam.Map(lambda uri: (uri, None)))
        kept = (
            {"new": new, "committed": committed}
            | "JoinCommitted" >> beam.CoGroupByKey()
            | "KeepNew" >> beam.ParDo(KeepNewRejections(), skipped).with_outputs(WITHDRAWN, main="rows")
        )
        written = (
            kept.rows
            | "OneGroup" >> beam.Map(lambda row: (None, row))
            | "Write" >> WritePartitions(spec.output, spec.run_id, spec.cfg["output"], rejected=True, fence=spec.fence)
        ).paths
        rewritten = (
            kept[WITHDRAWN]
            | "ByFile" >> beam.GroupByKey()
            | "Withdraw" >> beam.ParDo(WithdrawRejections(spec.fence), beam.pvalue.AsList(written),
                                       beam.pvalue.AsList(self.after))
        )
        paths = (written, rewritten) | "Paths" >> beam.Flatten()
        return {"paths": paths, "outcomes": counted[OUTCOMES]}


class WriteLedgerLast(beam.PTransform):
    """Ledger rows from file identities and outcome tallies, committed after the files in ``after`` (the
    paths every other writer yields), so a file is in the ledger only once its rows are committed."""

    def __init__(self, spec: RunSpec, after: list[beam.PCollection]):
        super().__init__()
        self.spec = spec
        self.after = after

    def expand(self, parts):
        spec = self.spec
        return (
            parts
            | "JoinOutcomes" >> beam.CoGroupByKey()
            | "LedgerRows" >> beam.ParDo(LedgerRows(spec.run_id, spec.fence.generation if spec.fence else None,
                                                 spec.earlier))
            | "OneGroup" >> beam.Map(lambda row: (None, row))
            | "Group" >> beam.GroupByKey()
            | "Commit" >> beam.ParDo(WriteLedger(spec.output, spec.run_id, spec.fence),
                                     *[beam.pvalue.AsList(paths) for paths in self.after])
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
    stories = built["stories"] | "WriteStoryIndex" >> WriteStoryIndex(spec, articles["paths"])
    _ = ({"file": read[FILES], "outcomes": outcomes}
         | "WriteLedger" >> WriteLedgerLast(spec, after=[articles["paths"], rejected["paths"], stories]))


def execute(spec: RunSpec, options: beam.options.pipeline_options.PipelineOptions) -> dict[str, int]:
    """Run the batch graph for ``spec`` to completion; return its newsbeam counters."""
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, spec)
    with failing_when_a_worker_dies():
        result = pipeline.run()
        result.wait_until_finish()
    return counters(result)
