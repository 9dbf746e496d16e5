"""The composites both graphs are built from (``pipeline.graph.composites``), each on hand-built inputs."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline  # not collected as a test class
from apache_beam.testing.util import assert_that, equal_to

from pipeline.graph.composites import AddEntitiesInBatches, RejectionRows, WritePartitions, by_partition
from pipeline.graph.stages import OUTCOMES, Resolved, rejection_row
from transforms.records import Rejection

OLD_FILE = "out/date=2024-05-14/section=world/part-old.parquet"


def row(name: str, language: str = "en", day: date = date(2024, 5, 14), section: str = "world") -> dict:
    return {"article_id": f"url:{name}", "source_uri": f"/in/{name}.html", "language": language,
            "body": f"{name} body", "date": day, "section": section, "title": name}


def test_add_entities_in_batches_annotates_every_row_and_keeps_what_it_replaces(run_config):
    cfg = copy.deepcopy(run_config)
    cfg["entities"]["batch_size"] = 2  # three rows: two batches
    cfg["entities"]["models"] = {}  # no model for any language: every row gets an empty list, never a guess
    rows = [Resolved(row("a")), Resolved(row("b", language="fr"), replaces=OLD_FILE), Resolved(row("c"))]
    pipeline = BeamTestPipeline()
    annotated = (pipeline | beam.Create(rows) | AddEntitiesInBatches(cfg)
                 | beam.Map(lambda r: (r.row["article_id"], r.replaces, r.row["entities"], r.row["entities_model"])))
    assert_that(annotated, equal_to([("url:a", None, [], None), ("url:b", OLD_FILE, [], None),
                                     ("url:c", None, [], None)]))
    pipeline.run()


def test_by_partition_keys_a_row_by_its_date_and_section():
    assert by_partition(Resolved(row("a", day=date(2024, 5, 2), section="business"))) == (
        ("2024-05-02", "business"), row("a", day=date(2024, 5, 2), section="business"))


def test_rejection_rows_key_each_dead_letter_by_its_id_and_tally_its_input_file():
    rejections = [Rejection("/in/feed.jsonl#line=3", "malformed_json", "line 3 is not JSON", stage="read"),
                  Rejection("/in/empty.txt", "empty_file", "no bytes", stage="read")]
    pipeline = BeamTestPipeline()
    out = (pipeline | beam.Create(rejections)
           | beam.ParDo(RejectionRows("run-1", "test")).with_outputs(OUTCOMES, main="rows"))
    expected = [rejection_row(r, "run-1", "test") for r in rejections]
    assert_that(out.rows | beam.Map(lambda kv: (kv[0], kv[1]["reason"], kv[1]["source_uri"], kv[1]["run_id"])),
                equal_to([(e["rejection_id"], e["reason"], e["source_uri"], "run-1") for e in expected]),
                label="Rows")
    assert_that(out[OUTCOMES], equal_to([("/in/feed.jsonl", {"rejected": 1}), ("/in/empty.txt", {"rejected": 1})]),
                label="Tallies")
    pipeline.run()


def test_write_partitions_commits_each_partition_into_its_folder_and_tallies_the_articles(run_config, tmp_path):
    rows = [Resolved(row("a")), Resolved(row("b")), Resolved(row("c", section="business"))]
    pipeline = BeamTestPipeline()
    written = (pipeline | beam.Create(rows) | beam.Map(by_partition)
               | WritePartitions(str(tmp_path), "run-1", run_config["output"]))
    assert_that(written.paths | beam.Map(lambda path: Path(path).parent.relative_to(tmp_path).as_posix()),
                equal_to(["date=2024-05-14/section=world", "date=2024-05-14/section=business"]), label="Paths")
    assert_that(written[OUTCOMES], equal_to([(f"/in/{n}.html", {"articles": 1}) for n in "abc"]), label="Tallies")
    pipeline.run()
    stored = {path.parent.name: sorted(pq.read_table(path, columns=["article_id"]).column(0).to_pylist())
              for path in tmp_path.glob("date=*/section=*/*.parquet")}
    assert stored == {"section=world": ["url:a", "url:b"], "section=business": ["url:c"]}
