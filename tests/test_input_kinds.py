"""One article, one row, whatever the input kind: a file without URL and a record with URL of the same content."""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
import duckdb
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.cli import main
from pipeline.graph.batch import MergeInputKinds, RunSpec
from pipeline.graph.scope import ReadScope
from pipeline.graph.stages import Drop
from pipeline.output.key_index import CommittedRow
from transforms.identity import article_id, sha256_hex

STORY = ("Harbour cranes return to Port Velmar\n\nPort Velmar reopened its northern quay on Tuesday after a "
         "six-month refit that replaced four cranes and deepened the berth for larger container ships.\n\n"
         "The harbour authority said traffic would reach its old level by the spring, and that the works "
         "had stayed within the budget the city council approved last year.")
URL = "https://coast.example.com/news/harbour-cranes"


def row(body: str, source_uri: str, url: str | None = None) -> dict:
    return {"article_id": article_id(url, body), "body": body, "content_hash": sha256_hex(body),
            "source_uri": source_uri}


def merged(tmp_path: Path, run_config: dict, articles: list[dict], committed: list[CommittedRow],
           read: frozenset[str]):
    """Run ``MergeInputKinds`` over ``articles`` and ``committed`` rows; assert on its three outputs."""
    spec = RunSpec(files=[], output=str(tmp_path / "out"), cfg=run_config, run_id="r", version="v")
    pipeline = TestPipeline()
    out = (pipeline | "Articles" >> beam.Create(articles)
           | MergeInputKinds(spec, pipeline | "Committed" >> beam.Create(committed),
                             ReadScope(dict.fromkeys(read))))
    return pipeline, out


def test_in_one_run_the_row_with_url_wins_and_the_file_without_is_a_duplicate(tmp_path, run_config):
    loose, record = row(STORY, "/in/harbour.txt"), row(STORY, "/in/feed.jsonl#line=1", URL)
    other = row(STORY.replace("four", "five"), "/in/other.txt")
    pipeline, out = merged(tmp_path, run_config, [loose, record, other], [], frozenset({"/in/harbour.txt"}))
    assert_that(out["articles"] | beam.Map(lambda a: a["source_uri"]),
                equal_to(["/in/feed.jsonl#line=1", "/in/other.txt"]), label="Kept")
    assert_that(out["outcomes"], equal_to([("/in/harbour.txt", {"duplicates": 1})]), label="Outcomes")
    assert_that(out["drops"], equal_to([]), label="Drops")
    pipeline.run()


def test_a_committed_row_without_url_is_dropped_for_the_new_row_with_url(tmp_path, run_config):
    record = row(STORY, "/in/feed.jsonl#line=1", URL)
    old_file = "/out/date=2024-05-20/section=unknown/part-a.parquet"
    body_id = article_id(None, STORY)
    committed = [CommittedRow(body_id, old_file, "/old/harbour.txt"),
                 CommittedRow(article_id(None, "another story"), old_file, "/old/another.txt")]
    pipeline, out = merged(tmp_path, run_config, [record], committed, frozenset({"/in/feed.jsonl"}))
    assert_that(out["articles"] | beam.Map(lambda a: a["article_id"]), equal_to([record["article_id"]]),
                label="Kept")
    assert_that(out["drops"], equal_to([Drop(old_file, body_id)]), label="Drops")
    pipeline.run()


def run(inputs: list[Path], output: Path) -> None:
    args = ["run", "--output", str(output), "--quiet"]
    for path in inputs:
        args += ["--input", str(path)]
    assert main(args) == 0


def write_captures(folder: Path, loose: bool, record: bool) -> None:
    folder.mkdir(parents=True)
    if loose:
        (folder / "harbour.txt").write_text(STORY + "\n")
    if record:
        line = {"url": URL + "?utm_source=feed", "fetched_at": "2024-05-20T10:00:00Z", "text": STORY}
        (folder / "feed.jsonl").write_text(json.dumps(line) + "\n")


def stored(output: Path) -> list[tuple]:
    glob = f"{output}/date=*/section=*/*.parquet"
    return duckdb.sql(f"select article_id, url, source_uri from read_parquet('{glob}', hive_partitioning=true)"
                      ).fetchall()


def last_summary(output: Path) -> dict:
    return max((json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")), key=lambda s: s["started_at"])


def test_one_run_over_both_kinds_writes_one_row_with_the_url(tmp_path):
    write_captures(tmp_path / "in", loose=True, record=True)
    run([tmp_path / "in"], tmp_path / "out")
    [(key, url, source_uri)] = stored(tmp_path / "out")
    assert (key.split(":")[0], url, source_uri.rsplit("/", 1)[-1]) == ("url", URL, "feed.jsonl#line=1")
    summary = last_summary(tmp_path / "out")
    assert (summary["captures_read"], summary["articles_written"], summary["duplicates_in_run"]) == (2, 1, 1)


def test_across_runs_the_row_with_url_replaces_the_file_without_and_is_never_doubled(tmp_path):
    write_captures(tmp_path / "loose", loose=True, record=False)
    write_captures(tmp_path / "records", loose=False, record=True)
    run([tmp_path / "loose"], tmp_path / "a")
    assert [key[:5] for key, _, _ in stored(tmp_path / "a")] == ["body:"]
    run([tmp_path / "records"], tmp_path / "a")
    assert [(key[:4], url) for key, url, _ in stored(tmp_path / "a")] == [("url:", URL)]
    assert last_summary(tmp_path / "a")["replaced_by_url_copy"] == 1

    run([tmp_path / "records"], tmp_path / "b")
    run([tmp_path / "loose"], tmp_path / "b")
    assert [(key[:4], url) for key, url, _ in stored(tmp_path / "b")] == [("url:", URL)]
    summary = last_summary(tmp_path / "b")
    assert (summary["articles_written"], summary["already_committed"]) == (0, 1)
