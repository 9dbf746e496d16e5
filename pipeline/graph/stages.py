"""Thin DoFns around the plain functions in ``transforms/`` and ``pipeline/captures/``.

Each stage sends what it cannot use to the ``rejected`` output with a named reason, counts what it
does, reports per-file outcomes for the ledger, and builds its heavy state in ``setup`` (once per
worker), never at graph-construction time.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
import traceback
from collections import defaultdict
from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.captures import RETRIED, FileDigest, iter_captures, read_limits, source_file
from pipeline.output.ledger import InputFile, file_sha256
from pipeline.output.lock import Fence
from pipeline.output.schema import ARTICLE_SCHEMA, LEDGER_SCHEMA, REJECTED_SCHEMA
from pipeline.output.sink import join, read_parquet, replace_parquet_file, write_parquet_files
from pipeline.runtime.progress import ProgressTally
from pipeline.runtime.worker_state import shared
from transforms.identity import sha256_hex
from transforms.records import Capture, Rejection

NAMESPACE = "newsbeam"
REJECTED = "rejected"
OUTCOMES = "outcomes"
FILES = "files"
DROPS = "drops"
WITHDRAWN = "withdrawn"
SKIPPED = "skipped"
REPLACES = "_replaces"
SUPERSEDES = "_supersedes"
LOG = logging.getLogger("newsbeam")


def count(name: str, value: int = 1) -> None:
    """Bump a newsbeam counter (Beam caches counter cells, so this is cheap)."""
    Metrics.counter(NAMESPACE, name).inc(value)


def timed(stage: str):
    """Count the microseconds a generator ``process`` spends itself, in counter ``us.<stage>``.

    Fused downstream steps run while the generator is suspended at ``yield``; only the time inside
    ``next()`` is counted, so each stage's figure is its own.
    """
    def decorate(process):
        @functools.wraps(process)
        def wrapper(self, *args, **kwargs):
            iterator, spent = iter(process(self, *args, **kwargs)), 0.0
            while True:
                started = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    count(f"us.{stage}", int((spent + time.perf_counter() - started) * 1e6))
                    return
                spent += time.perf_counter() - started
                yield item
        return wrapper
    return decorate


def outcome(source_uri: str, field: str, value: int = 1) -> beam.pvalue.TaggedOutput:
    """A per-input-file tally (captures, articles, duplicates, rejected, skipped) for the ledger."""
    return beam.pvalue.TaggedOutput(OUTCOMES, (source_file(source_uri), {field: value}))


def rejection_row(rejection: Rejection, run_id: str, version: str) -> dict:
    """A dead-letter row in ``REJECTED_SCHEMA`` shape; its id makes re-runs idempotent."""
    return {
        "rejection_id": sha256_hex(f"{rejection.source_uri}\x00{rejection.reason}")[:32],
        "source_uri": rejection.source_uri,
        "reason": rejection.reason,
        "detail": rejection.detail,
        "stage": rejection.stage,
        "rejected_at": datetime.now(UTC),
        "pipeline_version": version,
        "run_id": run_id,
    }


def partition_of(path: str) -> tuple[str, str] | None:
    """``(date, section)`` of a committed article file's path."""
    parts = dict(p.split("=", 1) for p in path.replace("\\", "/").split("/")[-3:-1] if "=" in p)
    return (parts["date"], parts["section"]) if {"date", "section"} <= parts.keys() else None


class ReadCaptures(beam.DoFn):
    """An input file to its captures; unreadable files and records go to ``rejected``.

    Also emits the file's identity (with its content hash) for the ledger, and its capture count; a file
    whose read failed for a reason that says nothing about its content (``RETRIED``) has no identity
    emitted, so it is not committed and the next run reads it again.
    Captures outside the ``--since/--until`` window are skipped and tallied, not lost (``skipped``: their
    ``source_uri``, so that their earlier outcomes stay untouched).
    A file with a ``part`` (``captures.slices``) yields only that part's captures, and only its last part
    emits the file's identity.
    """

    def __init__(self, read_settings: dict, since: datetime | None = None, until: datetime | None = None,
                 progress_dir: str | None = None):
        self.read_settings = read_settings
        self.since, self.until = since, until
        self.progress_dir = progress_dir
        self.limits = self.progress = None

    def setup(self):
        self.limits = read_limits(self.read_settings)
        self.progress = ProgressTally.for_directory(self.progress_dir)

    @timed("read")
    def process(self, item: InputFile):
        whole = item.part is None or item.part.last  # the read that commits the file (its last part)
        digest, captures, retry = FileDigest() if whole else None, 0, False
        skips = item.part.skips if item.part else None
        for capture in iter_captures(item.path, self.limits, (item.size, item.mtime), digest, skips):
            if item.part and not item.part.holds(capture.source_uri):
                continue
            captures += 1
            count("captures_read")
            if isinstance(capture, Rejection):
                retry = retry or capture.reason in RETRIED
                yield beam.pvalue.TaggedOutput(REJECTED, capture)
            elif self._outside_window(capture):
                count("captures_outside_window")
                yield outcome(capture.source_uri, "skipped")
                yield beam.pvalue.TaggedOutput(SKIPPED, capture.source_uri)
            else:
                yield capture
        yield beam.pvalue.TaggedOutput(OUTCOMES, (item.path, {"captures": captures}))
        if self.progress:
            self.progress.add("captures", captures)
        if not whole:
            return
        count("files_read")
        if self.progress:
            self.progress.add("files")
        if retry:
            count("files_to_retry")
        else:  # hashed as read; a file the readers did not read to its end (damaged, over a cap) is hashed apart
            yield beam.pvalue.TaggedOutput(FILES, (item.path, {
                "size": item.size, "mtime": item.mtime, "sidecar": item.sidecar,
                "sha256": digest.hexdigest or _sha256(item.path)}))

    def finish_bundle(self):
        if self.progress:
            self.progress.flush()

    def _outside_window(self, capture: Capture) -> bool:
        when = capture.captured_at
        return when is not None and bool((self.since and when < self.since) or (self.until and when >= self.until))


def _sha256(path: str) -> str | None:
    """The file's hash for the ledger; None when it cannot be read (its rejection says why)."""
    try:
        return file_sha256(path)
    except OSError:
        return None


class CleanAndEnrich(beam.DoFn):
    """A capture to an article row (all but entities), or a rejection saying why not."""

    def __init__(self, cfg: dict, run_id: str, version: str, progress_dir: str | None = None):
        self.cfg = cfg
        self.run_id = run_id
        self.version = version
        self.progress_dir = progress_dir
        self.enricher = self.progress = None

    def setup(self):
        from transforms.article import Enricher  # gazetteers and rule sets: build once per worker

        self.enricher = shared("enricher", self.cfg, Enricher.from_config)
        self.progress = ProgressTally.for_directory(self.progress_dir)

    def finish_bundle(self):
        if self.progress:
            self.progress.flush()

    @timed("clean_enrich")
    def process(self, capture: Capture):
        from transforms.article import build_article

        try:
            article, rejection, removed = build_article(capture, self.enricher)
        except Exception as error:  # a bug on one page must not end the run; it is reported instead
            LOG.warning("cleaning failed for %s: %s", capture.source_uri, traceback.format_exc(limit=3))
            yield beam.pvalue.TaggedOutput(REJECTED, Rejection(
                capture.source_uri, "internal_error", f"{type(error).__name__}: {error}", stage="clean"))
            return
        for rule in removed:
            count(f"furniture.{rule}")
        if rejection:
            yield beam.pvalue.TaggedOutput(REJECTED, rejection)
            return
        article["pipeline_version"] = self.version
        article["run_id"] = self.run_id
        if self.progress:
            self.progress.add("enriched")
        yield article


class AddEntities(beam.DoFn):
    """Named entities for a batch of articles, one ``nlp.pipe`` call per language in the batch."""

    def __init__(self, cfg: dict, progress_dir: str | None = None):
        self.cfg = cfg  # the run config: its ``entities`` block and the gazetteer the context rules use
        self.progress_dir = progress_dir
        self.recognizer = self.progress = None

    def setup(self):
        self.progress = ProgressTally.for_directory(self.progress_dir)
        if self.cfg["entities"]["enabled"]:
            from transforms.entities import EntityRecognizer

            self.recognizer = shared("entities", self.cfg, EntityRecognizer.from_config)

    def finish_bundle(self):
        if self.progress:
            self.progress.flush()

    @timed("entities")
    def process(self, batch: list[dict]):
        by_language: dict[str, list[dict]] = defaultdict(list)
        for article in batch:
            by_language[article["language"]].append(article)
        for language, articles in by_language.items():
            model = self.recognizer.model_names.get(language) if self.recognizer else None
            found = self.recognizer.recognise(language, [a["body"] for a in articles]) if model else None
            for position, article in enumerate(articles):
                entities = found[position] if found else []
                article["entities"] = [dataclasses.asdict(e) for e in entities]
                article["entities_model"] = model
                count("entities", len(entities))
                yield article
            if self.progress:
                self.progress.add("entities", len(articles))


class Supersede(beam.DoFn):
    """For one capture processed in this run, drop its committed rows and tell its new rows where they were.

    Input is grouped by ``source_uri``: the capture's new article rows, its rejections, and the rows an
    earlier run committed for it. Those committed rows are superseded (``drops``: old file, key); the
    new rows carry the old files (``_supersedes``) so a row staying in its partition can replace the
    old one in a single atomic file rewrite, even when its key changed.
    """

    def process(self, element):
        _, grouped = element
        articles = list(grouped["articles"])
        old = list(grouped["committed"])
        if old and (articles or any(True for _ in grouped["rejected"])):
            for drop in old:
                yield beam.pvalue.TaggedOutput(DROPS, drop)
        files = sorted({path for path, _ in old})
        for article in articles:
            yield {**article, SUPERSEDES: files} if files else article


class KeepUrlBearing(beam.DoFn):
    """For all new rows sharing one ``content_hash``: a row without URL (``body:`` id) is a duplicate when a
    row with URL (``url:`` id) has that content in this run, or a row committed earlier does.

    The same page read as a loose file and as a WARC or JSONL record is one article; its URL is the
    better identity, so the URL-bearing row is kept. Committed rows come from files this run does not
    read again (a capture read again is judged by its new row).
    """

    def process(self, element):
        _, grouped = element
        rows = list(grouped["new"])
        in_run = any(has_url(row) for row in rows)
        if not in_run and not any(True for _ in grouped["committed"]):
            yield from rows
            return
        for row in rows:
            if has_url(row):
                yield row
                continue
            count("articles_duplicates_in_run" if in_run else "articles_already_committed")
            count("articles_duplicates_across_kinds")
            yield outcome(row["source_uri"], "duplicates")


def has_url(row: dict) -> bool:
    """True for a row identified by its URL (``url:`` id), false for one identified by its body."""
    return row["article_id"].startswith("url:")


def replaced_without_url(element):
    """``(file, id)`` drops for committed ``body:`` rows whose content a new ``url:`` row carries."""
    _, grouped = element
    if any(True for _ in grouped["with_url"]):
        for path in grouped["committed"]:
            count("articles_replaced_by_url_copy")
            yield path, element[0]


class Resolve(beam.DoFn):
    """Decide, for all rows sharing one key, which one is written and which are duplicates.

    The kept row is the one with the smallest ``source_uri``, so the choice does not depend on bundles
    or worker counts. A key with a committed row that is not superseded in this run makes the new row
    a duplicate. When the key's committed rows are all superseded and one of them sits in the new
    row's partition, the row carries ``_replaces`` (that file) so the writer folds it into the file's
    atomic rewrite.
    """

    def __init__(self, what: str):
        self.what = what

    def process(self, element):
        _, grouped = element
        items = sorted(grouped["new"], key=lambda item: item["source_uri"])
        if not items:
            return
        winner, *repeats = [dict(item) for item in items]
        for repeat in repeats:
            count(f"{self.what}_duplicates_in_run")
            yield outcome(repeat["source_uri"], "duplicates")
        committed, dropped = list(grouped["committed"]), set(grouped["dropped"])
        if any(path not in dropped for path in committed):
            count(f"{self.what}_already_committed")
            yield outcome(winner["source_uri"], "duplicates")
            return
        old_files = sorted(set(winner.pop(SUPERSEDES, [])) | dropped)
        if old_files:
            count(f"{self.what}_replaced")
            partition = (winner["date"].isoformat(), winner["section"])
            in_place = [path for path in old_files if partition_of(path) == partition]
            if in_place:
                winner[REPLACES] = in_place[0]
        yield winner


class KeepNewRejections(beam.DoFn):
    """One dead-letter row per rejection id, and none for ids already committed by an earlier run.

    The committed side holds ``(file, source_uri)`` of the committed rows this run can meet: those of its
    new ids, and those of the captures in the files it reads again. A committed id with no new row is then
    a capture read again that no longer earns that rejection (it became an article, fails for another
    reason, or is gone from its file): it leaves as ``withdrawn`` ``(file, id)``, unless the capture was
    skipped by the ``--since/--until`` window (``skipped``), which leaves its outcome untouched.
    """

    def process(self, element, skipped):
        key, grouped = element
        rows = sorted(grouped["new"], key=lambda row: row["source_uri"])
        committed = list(grouped["committed"])
        if rows and not committed:
            yield rows[0]
        if not rows:
            for path, source_uri in committed:
                if source_uri not in skipped:
                    yield beam.pvalue.TaggedOutput(WITHDRAWN, (path, key))


class WithdrawRejections(beam.DoFn):
    """Rewrite one ``_rejected`` file without the ids withdrawn from it (atomically; removed when empty).

    Runs after the run's article and dead-letter files are committed (side inputs), so a capture read
    again is never in neither: at worst a reader sees its new row and its old rejection for a moment.
    """

    def __init__(self, fence: Fence | None = None):
        self.fence = fence

    def process(self, element, *barriers):
        path, ids = element
        gone = set(ids)
        rows = read_parquet(path).to_pylist()
        kept = [row for row in rows if row["rejection_id"] not in gone]
        replace_parquet_file(path, kept, REJECTED_SCHEMA, fence=self.fence)
        count("rejections_withdrawn", len(rows) - len(kept))
        yield path


class WritePartition(beam.DoFn):
    """All rows of one ``date=/section=`` partition (or of ``_rejected``) into atomic Parquet files."""

    def __init__(self, output: str, run_id: str, max_rows_per_file: int, compression: str, rejected: bool = False,
                 fence: Fence | None = None):
        self.output = output
        self.run_id = run_id
        self.max_rows = max_rows_per_file
        self.compression = compression
        self.rejected = rejected
        self.fence = fence

    @timed("write")
    def process(self, element):
        key, rows = element
        if self.rejected:
            directory, schema, counter = join(self.output, "_rejected"), REJECTED_SCHEMA, "rejected_rows_written"
        else:
            date, section = key
            directory = join(self.output, f"date={date}", f"section={section}")
            schema, counter = ARTICLE_SCHEMA, "articles_written"
        written_uris: list[str] = []

        def tracked(stream):
            for row in stream:
                written_uris.append(row["source_uri"])
                yield row

        for path, written in write_parquet_files(directory, tracked(rows), schema, f"part-{self.run_id}",
                                                 self.max_rows, self.compression, self.fence):
            count(counter, written)
            if not self.rejected:
                count(f"partition.date={key[0]}/section={key[1]}", written)
            yield path
        if not self.rejected:
            for uri in written_uris:
                yield outcome(uri, "articles")


class RewriteFile(beam.DoFn):
    """Replace an old article file by itself minus dropped keys plus its replacement rows, atomically.

    Runs only after every new file is committed (the ``written`` side input), so a key is never
    missing: at worst, for a row that moved partition, old and new are both visible for a moment.
    """

    def __init__(self, fence: Fence | None = None):
        self.fence = fence

    def process(self, element, written):
        old_path, grouped = element
        drops = set(grouped["drops"])
        rows = list(grouped["rows"])
        kept = [row for row in read_parquet(old_path).to_pylist() if row["article_id"] not in drops]
        replace_parquet_file(old_path, kept + rows, ARTICLE_SCHEMA, fence=self.fence)
        count("articles_written", len(rows))
        count("files_rewritten")
        for row in rows:
            yield source_file(row["source_uri"]), {"articles": 1}


class LedgerRows(beam.DoFn):
    """Join a file's identity with its outcome tallies into one ledger row, stamped with the lock generation."""

    def __init__(self, run_id: str, generation: int | None = None, earlier: dict[str, int] | None = None):
        self.run_id = run_id
        self.generation = generation
        self.earlier = earlier  # tallies of the earlier parts of a file cut into parts (``captures.slices``)

    def process(self, element):
        path, grouped = element
        identity = next(iter(grouped["file"]), None)
        if identity is None:
            return
        tallies: dict[str, int] = defaultdict(int, self.earlier or {})
        for tally in grouped["outcomes"]:
            for field, value in tally.items():
                tallies[field] += value
        yield {"path": path, **identity, **{f: tallies[f] for f in
                                           ("captures", "articles", "duplicates", "rejected", "skipped")},
               "run_id": self.run_id, "lock_generation": self.generation, "committed_at": datetime.now(UTC)}


class WriteLedger(beam.DoFn):
    """Commit the ledger rows, after every article and rejection file is committed (side inputs)."""

    def __init__(self, output: str, run_id: str, fence: Fence | None = None):
        self.output = output
        self.run_id = run_id
        self.fence = fence

    def process(self, element, *barriers):
        _, rows = element
        for path, _ in write_parquet_files(join(self.output, "_ledger"), rows, LEDGER_SCHEMA,
                                           f"ledger-{self.run_id}", 1_000_000, fence=self.fence):
            yield path
