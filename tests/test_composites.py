"""The batch graph's deciding steps one by one: ``TestPipeline`` + ``assert_that`` on hand-built inputs.

``Supersede``, ``Resolve`` and ``KeepNewRejections`` see what their ``CoGroupByKey`` hands them, drawn
here per test; ``BuildArticles`` runs on real capture files, against an output a real run committed.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline  # not collected as a test class
from apache_beam.testing.util import assert_that, equal_to

from pipeline.cli import main
from pipeline.config import load_run_config
from pipeline.graph.batch import BuildArticles, ReadFiles, RunSpec
from pipeline.graph.stages import (
    DROPS,
    OLD_FILES,
    OUTCOMES,
    REJECTED,
    WITHDRAWN,
    Drop,
    KeepNewRejections,
    OldFiles,
    Resolve,
    Resolved,
    Supersede,
)
from pipeline.output.ledger import list_inputs

FIXTURES = Path(__file__).parent / "fixtures"
OLD_FILE = "out/date=2024-05-14/section=technology/part-old.parquet"
OTHER_FILE = "out/date=2024-05-13/section=business/part-other.parquet"


def article(source_uri: str, **fields) -> dict:
    return {"article_id": "url:a", "source_uri": source_uri, "date": date(2024, 5, 14), "section": "technology",
            **fields}


def resolve(groups: list[tuple[str, dict]]):
    """Run ``Resolve`` over ``(key, {"new", "committed", "dropped", "old_files"})`` groups; return (pipeline,
    rows, outcomes)."""
    pipeline = BeamTestPipeline()
    resolved = (pipeline | beam.Create(groups)
                | beam.ParDo(Resolve("articles")).with_outputs(OUTCOMES, main="rows"))
    return pipeline, resolved.rows, resolved[OUTCOMES]


def test_resolve_keeps_the_smallest_source_uri_and_counts_the_others_as_duplicates():
    group = ("url:a", {"new": [article("b.html"), article("a.warc#offset=9"), article("c.txt")],
                       "committed": [], "dropped": [], "old_files": []})
    pipeline, rows, outcomes = resolve([group])
    assert_that(rows, equal_to([Resolved(article("a.warc#offset=9"))]), label="Kept")
    assert_that(outcomes, equal_to([("b.html", {"duplicates": 1}), ("c.txt", {"duplicates": 1})]), label="Tallies")
    pipeline.run()


def test_resolve_makes_a_new_row_a_duplicate_of_a_committed_row_that_stays():
    group = ("url:a", {"new": [article("b.html")], "committed": [OLD_FILE], "dropped": [], "old_files": []})
    pipeline, rows, outcomes = resolve([group])
    assert_that(rows, equal_to([]), label="Kept")
    assert_that(outcomes, equal_to([("b.html", {"duplicates": 1})]), label="Tallies")
    pipeline.run()


def test_resolve_folds_a_replacement_into_its_old_file_when_it_stays_in_that_partition():
    stays = ("url:a", {"new": [article("a.html")], "committed": [OLD_FILE], "dropped": [OLD_FILE],
                       "old_files": [OldFiles("a.html", (OLD_FILE,))]})
    moves = ("url:b", {"new": [article("b.html", article_id="url:b")], "committed": [OTHER_FILE],
                       "dropped": [OTHER_FILE], "old_files": []})
    pipeline, rows, outcomes = resolve([stays, moves])
    assert_that(rows, equal_to([Resolved(article("a.html"), replaces=OLD_FILE),
                                Resolved(article("b.html", article_id="url:b"))]), label="Kept")
    assert_that(outcomes, equal_to([]), label="Tallies")
    pipeline.run()


def supersede(groups: list[tuple[str, dict]]):
    pipeline = BeamTestPipeline()
    superseded = (pipeline | beam.Create(groups)
                  | beam.ParDo(Supersede()).with_outputs(DROPS, OLD_FILES, main="articles"))
    return pipeline, superseded.articles, superseded[DROPS], superseded[OLD_FILES]


def test_supersede_drops_the_committed_rows_of_a_capture_read_again_and_names_their_files():
    group = ("a.html", {"articles": [article("a.html")], "rejected": [],
                        "committed": [Drop(OTHER_FILE, "url:old"), Drop(OLD_FILE, "url:a")]})
    pipeline, articles, drops, old_files = supersede([group])
    assert_that(articles, equal_to([article("a.html")]), label="Articles")
    assert_that(drops, equal_to([Drop(OTHER_FILE, "url:old"), Drop(OLD_FILE, "url:a")]), label="Drops")
    assert_that(old_files, equal_to([("url:a", OldFiles("a.html", tuple(sorted([OLD_FILE, OTHER_FILE]))))]),
                label="OldFiles")
    pipeline.run()


def test_supersede_drops_the_rows_of_a_capture_that_is_now_rejected_but_not_of_one_that_is_gone():
    rejected_now = ("a.html", {"articles": [], "rejected": [None], "committed": [Drop(OLD_FILE, "url:a")]})
    not_seen = ("b.html", {"articles": [], "rejected": [], "committed": [Drop(OTHER_FILE, "url:b")]})
    new_only = ("c.html", {"articles": [article("c.html")], "rejected": [], "committed": []})
    pipeline, articles, drops, old_files = supersede([rejected_now, not_seen, new_only])
    assert_that(articles, equal_to([article("c.html")]), label="Articles")
    assert_that(drops, equal_to([Drop(OLD_FILE, "url:a")]), label="Drops")
    assert_that(old_files, equal_to([]), label="OldFiles")
    pipeline.run()


def test_keep_new_rejections_writes_each_id_once_and_withdraws_the_ones_no_longer_earned():
    first, second = {"source_uri": "a.txt", "reason": "empty_file"}, {"source_uri": "b.txt", "reason": "empty_file"}
    groups = [
        ("id-new", {"new": [second, first], "committed": []}),          # one row per id: the smallest source_uri
        ("id-known", {"new": [first], "committed": [("_rejected/p1.parquet", "a.txt")]}),  # committed already
        ("id-gone", {"new": [], "committed": [("_rejected/p1.parquet", "c.txt")]}),        # c.txt is fine now
        ("id-skipped", {"new": [], "committed": [("_rejected/p2.parquet", "d.txt")]}),     # outside --since
    ]
    pipeline = BeamTestPipeline()
    skipped = pipeline | "Skipped" >> beam.Create([("d.txt", None)])
    kept = (pipeline | "Groups" >> beam.Create(groups)
            | beam.ParDo(KeepNewRejections(), beam.pvalue.AsDict(skipped)).with_outputs(WITHDRAWN, main="rows"))
    assert_that(kept.rows, equal_to([first]), label="Rows")
    assert_that(kept[WITHDRAWN], equal_to([("_rejected/p1.parquet", "id-gone")]), label="Withdrawn")
    pipeline.run()


@pytest.fixture
def captures(tmp_path) -> Path:
    """Two copies of one page (one article id) and an empty file (a rejection)."""
    folder = tmp_path / "captures"
    folder.mkdir()
    shutil.copy(FIXTURES / "chip-plant.html", folder / "a-chip-plant.html")
    shutil.copy(FIXTURES / "chip-plant.html", folder / "b-chip-plant-copy.html")
    (folder / "c-empty.txt").write_bytes(b"")
    return folder


def build_articles(captures: Path, output: Path, run_id: str):
    """``ReadFiles | BuildArticles`` over every file in ``captures``, entity recognition off."""
    cfg = load_run_config()
    cfg["entities"]["enabled"] = False
    spec = RunSpec(list_inputs([f"{captures}/*"]).files, str(output), cfg, run_id, "test")
    pipeline = BeamTestPipeline()
    read = pipeline | ReadFiles(spec)
    built = {"captures": read.captures, "rejected": read[REJECTED]} | BuildArticles(spec)
    return pipeline, built


def test_build_articles_cleans_captures_and_keeps_one_row_per_article(captures, tmp_path):
    pipeline, built = build_articles(captures, tmp_path / "out", "run-1")
    described = built["rows"] | beam.Map(lambda r: (Path(r.row["source_uri"]).name, r.row["title"], r.row["run_id"]))
    assert_that(described, equal_to([("a-chip-plant.html", "Chipmaker picks Ohio for new plant", "run-1")]),
                label="Rows")
    copy = str(captures / "b-chip-plant-copy.html")
    assert_that(built["outcomes"], equal_to([(copy, {"duplicates": 1})]), label="Outcomes")
    assert_that(built["drops"], equal_to([]), label="Drops")
    pipeline.run()


def test_build_articles_supersedes_the_committed_row_of_a_rewritten_capture(captures, tmp_path):
    output = tmp_path / "out"
    assert main(["run", "--input", str(captures), "--output", str(output), "--quiet", "--entities", "off"]) == 0
    [committed] = [str(p) for p in output.glob("date=*/section=*/*.parquet")]
    page = captures / "a-chip-plant.html"
    page.write_text(page.read_text().replace("3,000 jobs", "3,500 jobs"))

    pipeline, built = build_articles(captures, output, "run-2")
    described = built["rows"] | beam.Map(lambda r: (Path(r.row["source_uri"]).name, "3,500 jobs" in r.row["body"],
                                                    r.replaces))
    assert_that(described, equal_to([("a-chip-plant.html", True, committed)]), label="Rows")
    assert_that(built["drops"] | beam.Map(lambda drop: drop.file), equal_to([committed]), label="Drops")
    pipeline.run()


def test_build_articles_rejects_what_the_cleaner_cannot_use_and_leaves_reader_rejections_to_its_caller(
        captures, tmp_path):
    (captures / "d-furniture.txt").write_text("Share this article\n\nAdvertisement\n\nSkip to main content\n")
    pipeline, built = build_articles(captures, tmp_path / "out", "run-1")
    reasons = built["rejected"] | beam.Map(lambda rejection: (Path(rejection.source_uri).name, rejection.reason))
    assert_that(reasons, equal_to([("d-furniture.txt", "only_furniture")]))  # not c-empty.txt: the reader's
    pipeline.run()
