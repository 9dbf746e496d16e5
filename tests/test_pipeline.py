"""End to end: real Beam pipelines (FnApiRunner) over capture files, output read back with DuckDB."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.cli import main
from pipeline.cli.options import EXIT_NOTHING_TO_DO
from pipeline.output.schema import ARTICLE_SCHEMA

FIXTURES = Path(__file__).parent / "fixtures"
SEED_MTIME = datetime(2022, 7, 9, 15, 0, tzinfo=UTC).timestamp()


def run(inputs: list[Path], output: Path, *extra: str) -> int:
    args = ["run", "--output", str(output), "--quiet", *extra]
    for path in inputs:
        args += ["--input", str(path)]
    return main(args)


def articles(output: Path) -> duckdb.DuckDBPyRelation:
    glob = f"{output}/date=*/section=*/*.parquet"
    return duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning=true)")


def rows(output: Path) -> list[dict]:
    relation = articles(output)
    return [dict(zip(relation.columns, values, strict=True)) for values in relation.fetchall()]


def rejected(output: Path) -> dict[str, str]:
    found = duckdb.sql(f"select source_uri, reason from read_parquet('{output}/_rejected/*.parquet')").fetchall()
    return {uri.rsplit("/", 1)[-1]: reason for uri, reason in found}


def last_summary(output: Path) -> dict:
    runs = [json.loads(path.read_text()) for path in (output / "_runs").glob("*.json")]
    return max(runs, key=lambda run: run["started_at"])


def seed_capture(folder: Path) -> Path:
    path = folder / "seed_shaped.txt"
    shutil.copy(FIXTURES / "seed_shaped.txt", path)
    os.utime(path, (SEED_MTIME, SEED_MTIME))
    return path


# As a crawler records it: http, www., an unsorted query; `url` holds the normalised canonical form.
CAPTURED_URL = "http://www.tribune.example.com/technology/2024/05/15/chip-plant-two?ref=feed&b=2"


def warc_response(writer: WARCWriter, url: str, when: str, content_type: str, payload: bytes) -> None:
    headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                                  http_headers=headers, warc_headers_dict={"WARC-Date": when}))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """One run over a folder with every input kind, a duplicate and bad captures; returns its output."""
    captures = tmp_path_factory.mktemp("captures")
    seed_capture(captures)
    shutil.copy(FIXTURES / "chip-plant.html", captures / "chip-plant.html")
    with gzip.open(captures / "sequia.html.gz", "wb") as handle:
        handle.write((FIXTURES / "sequia.html").read_bytes())
    with open(captures / "crawl.warc.gz", "wb") as raw:
        writer = WARCWriter(raw, gzip=True)
        page = (FIXTURES / "chip-plant.html").read_text().replace("chipmaker-ohio-plant", "chip-plant-two")
        page = page.replace("Chipmaker picks Ohio", "Second chipmaker picks Ohio").replace("3,000", "4,500")
        warc_response(writer, CAPTURED_URL, "2024-05-15T08:00:00Z", "text/html; charset=utf-8", page.encode())
        warc_response(writer, "https://tribune.example.com/logo.png", "2024-05-15T08:00:01Z", "image/png",
                      b"\x89PNG\r\n\x1a\n" + bytes(40))
    feed = [
        json.dumps({"url": "https://wire.example.com/politics/budget-vote", "fetched_at": "2024-05-20T10:00:00Z",
                    "section": "Politics", "text": "Budget passes after late-night vote\n\nLawmakers approved the "
                    "annual budget shortly after midnight on Monday, ending weeks of negotiations between the "
                    "two largest parties over spending on schools, hospitals and roads in the capital."}),
        json.dumps({"url": "https://tribune.example.com/technology/2024/05/14/chipmaker-ohio-plant?utm_source=x",
                    "html": (FIXTURES / "chip-plant.html").read_text()}),
        '{"url": "https://broken.example.com/", "text": "cut off',
    ]
    (captures / "feed.jsonl").write_text("\n".join(feed) + "\n")
    (captures / "empty.txt").write_bytes(b"")
    (captures / "junk.html").write_bytes(bytes(range(256)) * 4)
    (captures / "only-furniture.txt").write_text("Main Slider\n\nShare this article\n\nBack to top button\n")
    output = tmp_path_factory.mktemp("out")
    assert run([captures], output) == 0
    return output


def test_seed_shaped_capture_becomes_one_clean_row(tmp_path):
    captures = tmp_path / "in"
    captures.mkdir()
    seed_capture(captures)
    assert run([captures], tmp_path / "out") == 0
    [row] = rows(tmp_path / "out")
    assert (row["date"], row["section"], row["section_source"]) == (date(2022, 7, 9), "world", "breadcrumb")
    assert (row["language"], row["agency"], row["byline"], row["authors"]) == ("en", "Reuters", "Reuters", [])
    assert row["source_url"] is None  # a loose file has no URL
    assert row["language_confidence"] > 0.9
    assert (row["dateline_place"], row["dateline_country"], row["dateline_country_code"]) == (
        "Lagos", "Nigeria", "NG")
    assert row["title"] == "Ministers pledge to reopen border crossings before harvest, Okafor says"
    assert row["body"].startswith("Nigerian Foreign Minister Amara Okafor said on Tuesday")
    for furniture in ("Main Slider", "Back to top button", "Related Articles", "Story by"):
        assert furniture not in row["body"]
    assert (row["date_source"], row["captured_at_source"]) == ("capture_time", "file_mtime")
    people = {e["text"] for e in row["entities"] if e["label"] == "PERSON"}
    assert {"Amara Okafor", "Bola Tinubu"} <= people
    assert not {e["text"] for e in row["entities"]} & {"Main SliderWorld", "Story", "Reuters"}
    assert row["entities_model"].startswith("en_core_web_sm")
    assert row["article_id"].startswith("body:") and row["word_count"] > 100
    assert row["furniture_removed"] == {"carousel_label": 1, "byline": 1, "related_block": 1, "back_to_top": 1}


def test_html_page_takes_metadata_from_json_ld_and_canonical_link(mixed):
    [row] = [r for r in rows(mixed) if r["title"] == "Chipmaker picks Ohio for new plant"]
    assert row["url"] == "https://tribune.example.com/technology/2024/05/14/chipmaker-ohio-plant"
    assert row["published_at"] == datetime(2024, 5, 14, 15, 20, tzinfo=UTC)
    assert (row["date"], row["date_source"]) == (date(2024, 5, 14), "json_ld")
    assert (row["section"], row["section_source"]) == ("technology", "html_meta")
    assert (row["dateline_place"], row["dateline_country_code"], row["agency"]) == ("Columbus", "US",
                                                                                   "Associated Press")
    assert row["body"].startswith("A semiconductor maker said on Tuesday")
    assert "Related Articles" not in row["body"] and "Share this article" not in row["body"]
    assert row["site_name"] == "Example Tribune"
    assert row["authors"] == ["Dana Whitfield"]
    assert {"Mike DeWine", "Gina Raimondo"} <= {e["text"] for e in row["entities"] if e["label"] == "PERSON"}


def test_warc_response_records_become_articles_with_their_capture_time(mixed):
    [row] = [r for r in rows(mixed) if (r["url"] or "").endswith("chip-plant-two")]
    assert row["captured_at"] == datetime(2024, 5, 15, 8, tzinfo=UTC)
    assert row["captured_at_source"] == "warc_date"
    assert "#offset=" in row["source_uri"]
    assert row["source_url"] == CAPTURED_URL
    assert row["url"] == "https://tribune.example.com/technology/2024/05/14/chip-plant-two"  # its canonical link


def test_jsonl_records_and_gzip_pages_are_read(mixed):
    by_url = {r["url"]: r for r in rows(mixed)}
    budget = by_url["https://wire.example.com/politics/budget-vote"]
    assert (budget["section"], budget["section_source"]) == ("politics", "record")
    assert budget["captured_at"] == datetime(2024, 5, 20, 10, tzinfo=UTC)
    assert budget["title"] == "Budget passes after late-night vote"
    [spanish] = [r for r in rows(mixed) if r["language"] == "es"]
    assert spanish["source_uri"].endswith("sequia.html.gz")
    assert (spanish["section"], spanish["section_label"], spanish["date_source"]) == ("world", "Internacional",
                                                                                     "html_meta")
    assert (spanish["dateline_place"], spanish["agency"]) == ("Madrid", "EFE")


def test_languages_without_a_model_get_no_entities(mixed):
    [spanish] = [r for r in rows(mixed) if r["language"] == "es"]
    assert spanish["entities"] == [] and spanish["entities_model"] is None


def test_bad_captures_are_rejected_with_a_reason(mixed):
    reasons = rejected(mixed)
    assert reasons["empty.txt"] == "empty_file"
    assert reasons["junk.html"] == "binary_content"
    assert reasons["only-furniture.txt"] == "only_furniture"
    assert reasons["feed.jsonl#line=3"] == "malformed_json"
    assert [r for uri, r in reasons.items() if uri.startswith("crawl.warc.gz#")] == ["not_html"]


def test_every_capture_is_accounted_for(mixed):
    summary = last_summary(mixed)
    assert summary["status"] == "succeeded"
    assert summary["articles_written"] == 5 == len(rows(mixed))
    assert summary["duplicates_in_run"] == 1  # the JSONL copy of chip-plant.html
    assert summary["rejected"] == 5 == len(rejected(mixed))
    assert summary["captures_read"] == (summary["articles_written"] + summary["duplicates_in_run"]
                                        + summary["already_committed"] + summary["rejected"]) == 11
    assert sum(summary["partitions"].values()) == 5


def test_every_capture_is_accounted_for_per_input_file(mixed):
    ledger = duckdb.sql(f"select path, captures, articles, duplicates, rejected, skipped "
                        f"from read_parquet('{mixed}/_ledger/*.parquet')").fetchall()
    assert len(ledger) == 8
    for path, captures, articles, duplicates, rejected_here, skipped in ledger:
        assert captures == articles + duplicates + rejected_here + skipped, path
    by_name = {path.rsplit("/", 1)[-1]: row for path, *row in ledger}
    assert by_name["feed.jsonl"] == [3, 1, 1, 1, 0]
    assert by_name["crawl.warc.gz"] == [2, 1, 0, 1, 0]


def test_output_is_typed_for_duckdb(mixed):
    relation = articles(mixed)
    described = {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}
    assert described["date"] == "DATE"
    assert described["entities"] == ('STRUCT("text" VARCHAR, "label" VARCHAR, count INTEGER, canonical VARCHAR, '
                                     'country_code VARCHAR)[]')
    assert described["published_at"] == "TIMESTAMP WITH TIME ZONE"
    for path in mixed.glob("date=*/section=*/*.parquet"):
        assert pq.read_schema(path).remove_metadata() == ARTICLE_SCHEMA


def test_no_in_progress_files_are_left_behind(mixed):
    leftovers = [p for p in mixed.rglob("*") if p.is_file() and p.suffix not in {".parquet", ".json", ".sql"}]
    assert leftovers == []
    data_files = [*mixed.glob("date=*/section=*/*.parquet"), *mixed.glob("_rejected/*.parquet")]
    assert data_files and all(p.name.startswith("part-") for p in data_files)


@pytest.mark.slow
def test_rerun_adds_no_rows_and_new_captures_add_only_theirs(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    seed_capture(captures)
    assert run([captures], output) == 0
    first_files = {p: p.stat().st_mtime_ns for p in output.rglob("*.parquet")}
    assert run([captures], output) == EXIT_NOTHING_TO_DO
    assert len(rows(output)) == 1
    assert last_summary(output)["status"] == "nothing to do"
    assert {p: p.stat().st_mtime_ns for p in output.rglob("*.parquet")} == first_files

    shutil.copy(FIXTURES / "chip-plant.html", captures / "chip-plant.html")
    assert run([captures], output) == 0
    assert len(rows(output)) == 2
    assert last_summary(output)["articles_written"] == 1
    assert all(p.stat().st_mtime_ns == t for p, t in first_files.items())


@pytest.mark.slow
def test_a_copy_in_a_new_file_of_an_article_committed_earlier_is_a_counted_duplicate(tmp_path):
    """The later run reads only the new file; the committed row it duplicates lives in a file it does not read."""
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    seed_capture(captures)
    shutil.copy(FIXTURES / "chip-plant.html", captures / "chip-plant.html")
    assert run([captures], output) == 0
    before = rows(output)
    shutil.copy(FIXTURES / "chip-plant.html", captures / "chip-plant-recrawled.html")
    assert run([captures], output) == 0
    summary = last_summary(output)
    assert (summary["files_read"], summary["articles_written"], summary["already_committed"]) == (1, 0, 1)
    assert rows(output) == before


@pytest.mark.slow
def test_rejections_are_not_repeated_by_a_rerun(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    captures.mkdir()
    seed_capture(captures)
    (captures / "empty.txt").write_bytes(b"")
    assert run([captures], output) == 0
    assert run([captures], output, "--reprocess") == 0
    assert rejected(output) == {"empty.txt": "empty_file"}
    assert last_summary(output)["rejected"] == 1


@pytest.mark.slow
def test_exit_codes(tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert run([empty], tmp_path / "out") == 3
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    seed_capture(bad)
    assert run([bad], tmp_path / "out2", "--fail-on-reject") == 4
    assert run([bad], tmp_path / "out3", "--config", str(tmp_path / "missing.yaml")) == 2


_WRITE_PARQUET = """
import io
from pipeline.runtime.process import prepare_process
prepare_process()  # what newsbeam's entry points do first
import pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({"body": ["text"] * 100_000}), io.BytesIO(), compression="zstd")
print(pa.default_memory_pool().backend_name, pa.mimalloc_memory_pool().max_memory())
"""


@pytest.mark.parametrize(("setting", "backend", "mimalloc_used"),
                         [(None, "system", False), ("mimalloc", "mimalloc", True)])
def test_parquet_is_written_from_the_system_allocator_unless_arrow_is_told_otherwise(setting, backend, mimalloc_used):
    """Arrow's own pool keeps memory a chunk freed (docs/performance.md); ARROW_DEFAULT_MEMORY_POOL still wins."""
    env = {name: value for name, value in os.environ.items() if name != "ARROW_DEFAULT_MEMORY_POOL"}
    if setting:
        env["ARROW_DEFAULT_MEMORY_POOL"] = setting
    shown = subprocess.run([sys.executable, "-c", _WRITE_PARQUET], env=env, cwd=FIXTURES.parent.parent,
                           capture_output=True, text=True, check=True).stdout.split()
    assert (shown[0], int(shown[1]) > 0) == (backend, mimalloc_used)


_EXIT_LEAVING_GARBAGE = """
import atexit, gc, sys
from pathlib import Path
from pipeline.runtime.fast_exit import exit_without_collecting
gc.disable()  # the cycle below stays uncollected until the exit
folder = Path(sys.argv[1])
class Cycle:
    def __del__(self):
        (folder / "collected").touch()
garbage = Cycle()
garbage.itself = garbage
del garbage
atexit.register((folder / "exit-handler-ran").touch)
exit_without_collecting(7)
"""


def test_a_newsbeam_process_ends_without_the_last_collection_but_runs_its_exit_handlers(tmp_path):
    """The program's exit skips CPython's final collection (docs/performance.md), not its exit handlers."""
    ended = subprocess.run([sys.executable, "-c", _EXIT_LEAVING_GARBAGE, str(tmp_path)], cwd=FIXTURES.parent.parent)
    assert ended.returncode == 7
    assert sorted(path.name for path in tmp_path.iterdir()) == ["exit-handler-ran"]
