"""Thin DoFns around the plain functions in ``transforms/`` and ``pipeline/captures.py``.

Each stage sends what it cannot use to the ``rejected`` output with a named reason, counts what it
does, and builds its heavy state in ``setup`` (once per worker), never at graph-construction time.
"""

from __future__ import annotations

import logging
import traceback
from collections import defaultdict
from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.captures import iter_captures, load_read_limits
from pipeline.schema import ARTICLE_SCHEMA, REJECTED_SCHEMA
from pipeline.sink import join, write_parquet_files
from transforms.identity import sha256_hex
from transforms.records import Capture, Rejection

NAMESPACE = "newsbeam"
REJECTED = "rejected"
LOG = logging.getLogger("newsbeam")


def count(name: str, value: int = 1) -> None:
    """Bump a newsbeam counter (Beam caches counter cells, so this is cheap)."""
    Metrics.counter(NAMESPACE, name).inc(value)


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


class ReadCaptures(beam.DoFn):
    """A matched file path to its captures; unreadable files and records go to ``rejected``."""

    def __init__(self, read_config_path: str):
        self.read_config_path = read_config_path
        self.limits = None

    def setup(self):
        self.limits = load_read_limits(self.read_config_path)

    def process(self, path: str):
        count("files_read")
        for item in iter_captures(path, self.limits):
            count("captures_read")
            if isinstance(item, Rejection):
                yield beam.pvalue.TaggedOutput(REJECTED, item)
            else:
                yield item


class CleanAndEnrich(beam.DoFn):
    """A capture to an article row (all but entities), or a rejection saying why not."""

    def __init__(self, cfg: dict, run_id: str, version: str):
        self.cfg = cfg
        self.run_id = run_id
        self.version = version
        self.enricher = None

    def setup(self):
        from transforms.article import Enricher  # gazetteers and rule sets: build once per worker

        self.enricher = Enricher.from_config(self.cfg)

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
        yield article


class AddEntities(beam.DoFn):
    """Named entities for a batch of articles, one ``nlp.pipe`` call per language in the batch."""

    def __init__(self, entity_cfg: dict):
        self.entity_cfg = entity_cfg
        self.recognizer = None

    def setup(self):
        if self.entity_cfg["enabled"]:
            from transforms.entities import EntityRecognizer

            cfg = self.entity_cfg
            self.recognizer = EntityRecognizer(cfg["models"], cfg["labels"], cfg["batch_size"], cfg["max_chars"])

    def process(self, batch: list[dict]):
        by_language: dict[str, list[dict]] = defaultdict(list)
        for article in batch:
            by_language[article["language"]].append(article)
        for language, articles in by_language.items():
            model = self.recognizer.model_names.get(language) if self.recognizer else None
            found = self.recognizer.recognise(language, [a["body"] for a in articles]) if model else None
            for position, article in enumerate(articles):
                entities = found[position] if found else []
                article["entities"] = [{"text": e.text, "label": e.label, "count": e.count} for e in entities]
                article["entities_model"] = model
                count("entities", len(entities))
                yield article


class KeepFirstNew(beam.DoFn):
    """Of the items sharing one key, keep one unless the key is already committed; count the rest.

    The kept item is the one with the smallest ``source_uri``, so the choice does not depend on how
    bundles were split or how many workers ran.
    """

    def __init__(self, what: str):
        self.what = what

    def process(self, element):
        _, grouped = element
        items = sorted(grouped["new"], key=lambda item: item["source_uri"])
        if any(True for _ in grouped["committed"]):
            count(f"{self.what}_already_committed", len(items))
            return
        if items:
            count(f"{self.what}_duplicates_in_run", len(items) - 1)
            yield items[0]


class WritePartition(beam.DoFn):
    """All rows of one ``date=/section=`` partition (or of ``_rejected``) into atomic Parquet files."""

    def __init__(self, output: str, run_id: str, max_rows_per_file: int, compression: str, rejected: bool = False):
        self.output = output
        self.run_id = run_id
        self.max_rows = max_rows_per_file
        self.compression = compression
        self.rejected = rejected

    def process(self, element):
        key, rows = element
        if self.rejected:
            directory, schema, counter = join(self.output, "_rejected"), REJECTED_SCHEMA, "rejected_rows_written"
        else:
            date, section = key
            directory = join(self.output, f"date={date}", f"section={section}")
            schema, counter = ARTICLE_SCHEMA, "articles_written"
        for path, written in write_parquet_files(directory, rows, schema, f"part-{self.run_id}",
                                                 self.max_rows, self.compression):
            count(counter, written)
            if not self.rejected:
                count(f"partition.date={key[0]}/section={key[1]}", written)
            yield path
