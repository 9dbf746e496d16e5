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
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.captures import RETRIED, FileDigest, iter_captures, read_limits, source_file
from pipeline.output.ledger import InputFile, file_sha256
from pipeline.output.lock import Fence
from pipeline.output.schema import ARTICLE_SCHEMA, LEDGER_SCHEMA, REJECTED_SCHEMA
from pipeline.output.sink import join, read_parquet, replace_parquet_file, write_parquet_files
from pipeline.runtime.progress import ProgressTally
from pipeline.runtime.worker_state import shared
from transforms.duplicates import (
    ACROSS_KINDS,
    ALREADY_COMMITTED,
    IN_RUN,
    counter,
    duplicate_reason,
    keep_smallest_source,
)
from transforms.identity import sha256_hex
from transforms.records import Capture, Rejection

NAMESPACE = "newsbeam"
REJECTED = "rejected"
OUTCOMES = "outcomes"
FILES = "files"
DROPS = "drops"
WITHDRAWN = "withdrawn"
SKIPPED = "skipped"
OLD_FILES = "old_files"
LOG = logging.getLogger("newsbeam")


class Drop(NamedTuple):
    """A committed article row to remove from its file: superseded, or replaced by its copy with URL."""

    file: str
    article_id: str


class OldFiles(NamedTuple):
    """The files holding the rows an earlier run committed for one capture that this run reads again."""

    source_uri: str
    files: tuple[str, ...]


class Resolved(NamedTuple):
    """A row the duplicate policy keeps, and the old file of its partition whose atomic rewrite it goes
    into (None: it is written to a new file)."""

    row: dict
    replaces: str | None = None


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
    def process(self, batch: list[Resolved]):
        by_language: dict[str, list[Resolved]] = defaultdict(list)
        for resolved in batch:
            by_language[resolved.row["language"]].append(resolved)
        for language, items in by_language.items():
            model = self.recognizer.model_names.get(language) if self.recognizer else None
            found = self.recognizer.recognise(language, [item.row["body"] for item in items]) if model else None
            for position, item in enumerate(items):
                entities = found[position] if found else []
                item.row["entities"] = [dataclasses.asdict(e) for e in entities]
                item.row["entities_model"] = model
                count("entities", len(entities))
                yield item
            if self.progress:
                self.progress.add("entities", len(items))


class Supersede(beam.DoFn):
    """For one capture processed in this run, drop its committed rows and tell its new rows where they were.

    Input is grouped by ``source_uri``: the capture's new article rows, its rejections, and the rows an
    earlier run committed for it (``Drop``). Those committed rows are superseded (``drops``); each new
    row's id leaves with the old files (``old_files``: ``(article_id, OldFiles)``) so a row staying in
    its partition can replace the old one in a single atomic file rewrite, even when its key changed.
    """

    def process(self, element):
        source_uri, grouped = element
        articles = list(grouped["articles"])
        old: list[Drop] = list(grouped["committed"])
        if old and (articles or any(True for _ in grouped["rejected"])):
            for drop in old:
                yield beam.pvalue.TaggedOutput(DROPS, drop)
        files = tuple(sorted({drop.file for drop in old}))
        for article in articles:
            if files:
                yield beam.pvalue.TaggedOutput(OLD_FILES, (article["article_id"], OldFiles(source_uri, files)))
            yield article


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
            count(counter("articles", duplicate_reason(in_run, committed=True)))
            count(counter("articles", ACROSS_KINDS))
            yield outcome(row["source_uri"], "duplicates")


def has_url(row: dict) -> bool:
    """True for a row identified by its URL (``url:`` id), false for one identified by its body."""
    return row["article_id"].startswith("url:")


def replaced_without_url(element) -> Iterator[Drop]:
    """Drops for committed ``body:`` rows whose content a new ``url:`` row carries."""
    body_id, grouped = element
    if any(True for _ in grouped["with_url"]):
        for path in grouped["committed"]:
            count("articles_replaced_by_url_copy")
            yield Drop(path, body_id)


class Resolve(beam.DoFn):
    """Decide, for all rows sharing one key, which one is written and which are duplicates
    (``transforms.duplicates``).

    The kept row is the one with the smallest ``source_uri``. A key with a committed row that is not
    superseded in this run makes the new row a duplicate. When the key's committed rows are all
    superseded and one of them sits in the new row's partition, the kept row is ``Resolved`` with that
    file as ``replaces``, so the writer folds it into the file's atomic rewrite.
    """

    def __init__(self, what: str):
        self.what = what

    def process(self, element):
        _, grouped = element
        winner, repeats = keep_smallest_source(grouped["new"])
        if winner is None:
            return
        for repeat in repeats:
            count(counter(self.what, IN_RUN))
            yield outcome(repeat["source_uri"], "duplicates")
        committed, dropped = list(grouped["committed"]), set(grouped["dropped"])
        if any(path not in dropped for path in committed):
            count(counter(self.what, ALREADY_COMMITTED))
            yield outcome(winner["source_uri"], "duplicates")
            return
        superseded = {path for old in grouped["old_files"] if old.source_uri == winner["source_uri"]
                      for path in old.files}
        old_files = sorted(superseded | dropped)
        if not old_files:
            yield Resolved(winner)
            return
        count(f"{self.what}_replaced")
        partition = (winner["date"].isoformat(), winner["section"])
        in_place = [path for path in old_files if partition_of(path) == partition]
        yield Resolved(winner, in_place[0] if in_place else None)


class KeepNewRejections(beam.DoFn):
    """One dead-letter row per rejection id, and none for ids already committed by an earlier run
    (``transforms.duplicates``: the smallest ``source_uri`` is kept).

    The committed side holds ``(file, source_uri)`` of the committed rows this run can meet: those of its
    new ids, and those of the captures in the files it reads again. A committed id with no new row is then
    a capture read again that no longer earns that rejection (it became an article, fails for another
    reason, or is gone from its file): it leaves as ``withdrawn`` ``(file, id)``, unless the capture was
    skipped by the ``--since/--until`` window (``skipped``), which leaves its outcome untouched.
    """

    def process(self, element, skipped):
        key, grouped = element
        kept, repeats = keep_smallest_source(grouped["new"])
        committed = list(grouped["committed"])
        if repeats:
            count(counter("rejections", IN_RUN), len(repeats))
        if kept is not None and committed:
            count(counter("rejections", ALREADY_COMMITTED))
        elif kept is not None:
            yield kept
        else:
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

    def process(self, element, *_written_first):  # side inputs only order this step after those writes
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
    """Commit the ledger rows, after every article, rejection and story index file is committed (side inputs)."""

    def __init__(self, output: str, run_id: str, fence: Fence | None = None):
        self.output = output
        self.run_id = run_id
        self.fence = fence

    def process(self, element, *_written_first):  # side inputs only order this step after those writes
        _, rows = element
        for path, _ in write_parquet_files(join(self.output, "_ledger"), rows, LEDGER_SCHEMA,
                                           f"ledger-{self.run_id}", 1_000_000, fence=self.fence):
            yield path
