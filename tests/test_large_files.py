"""Large capture files cut into slices of ``run.captures_per_pipeline`` captures, one pipeline each.

A run over a file cut into parts must write exactly what a run over the whole file writes, commit the file
once (by its last part), replace a rewritten file's rows exactly, and pick up after a kill between parts.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from array import array
from pathlib import Path

import duckdb
import pytest
import yaml
from bad_inputs.make_bad_inputs import page, text_capture
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.captures import load_read_limits
from pipeline.captures.slices import Part, slice_inputs
from pipeline.cli import main
from pipeline.cli.options import EXIT_NOTHING_TO_DO, EXIT_OK
from pipeline.config import CONFIG_DIR
from pipeline.graph.scope import ReadScope
from pipeline.output.ledger import list_inputs

ARTICLES = "read_parquet('{out}/date=*/section=*/*.parquet', hive_partitioning=true)"
REJECTED = "read_parquet('{out}/_rejected/*.parquet')"
LEDGER = "read_parquet('{out}/_ledger/*.parquet')"
PER_PIPELINE = 10
MTIME = 1_709_000_000


def write_jsonl(path: Path, numbers: range, changed: frozenset[int] = frozenset()) -> None:
    """One capture per line, a malformed line every 13th; a ``changed`` number gets another story."""
    with open(path, "w", encoding="utf-8") as out:
        for n in numbers:
            if n % 13 == 5:
                out.write("{not json\n")
                continue
            story = text_capture(n + 500 if n in changed else n)
            out.write(json.dumps({"url": f"https://wire.example/{n}", "fetched_at": "2024-03-02T10:00:00Z",
                                  "text": story}) + "\n")
    os.utime(path, (MTIME, MTIME))


def write_warc(path: Path, records: int | list[int]) -> None:
    """A record per number (``records``: how many, or which, in their order): ``crawl.example/<n>``."""
    with open(path, "wb") as raw:
        writer = WARCWriter(raw, gzip=True)
        for n in range(records) if isinstance(records, int) else records:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"https://crawl.example/{n}", "response", payload=io.BytesIO(page(200 + n).encode()),
                http_headers=http, warc_headers_dict={"WARC-Date": "2024-03-04T10:00:00Z"}))
    os.utime(path, (MTIME, MTIME))


@pytest.fixture
def captures(tmp_path) -> Path:
    """A JSONL file of 25 lines, a WARC of 24 records, and two one-page files."""
    folder = tmp_path / "captures"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", range(25))
    write_warc(folder / "crawl.warc.gz", 24)
    for n in (90, 91):
        (folder / f"story-{n}.txt").write_text(text_capture(n))
    return folder


def config(tmp_path: Path, captures_per_pipeline: int) -> str:
    """The project's configs, with ``run.captures_per_pipeline`` set."""
    folder = tmp_path / f"configs-{captures_per_pipeline}"
    if not folder.exists():
        shutil.copytree(CONFIG_DIR, folder)
        settings = yaml.safe_load((folder / "local.yaml").read_text())
        settings["run"]["captures_per_pipeline"] = captures_per_pipeline
        (folder / "local.yaml").write_text(yaml.safe_dump(settings))
    return str(folder / "local.yaml")


def run(captures: Path, output: Path, captures_per_pipeline: int) -> int:
    return main(["run", "--input", str(captures), "--output", str(output), "--quiet", "--entities", "off",
                 "--workers", "1", "--config", config(captures.parent, captures_per_pipeline)])


def written(output: Path) -> dict[str, list[tuple]]:
    """What a reader sees: the articles, the dead letters and the ledger's view of each file."""
    return {
        "articles": duckdb.sql(f"select source_uri, article_id, body, date, section from "
                               f"{ARTICLES.format(out=output)} order by source_uri").fetchall(),
        "rejected": duckdb.sql(f"select rejection_id, source_uri, reason from {REJECTED.format(out=output)} "
                               "order by rejection_id").fetchall(),
        "ledger": duckdb.sql(f"select path, size, sha256, captures from {LEDGER.format(out=output)} "
                             "order by path, committed_at").fetchall(),
    }


def test_a_large_file_is_cut_into_parts_and_small_files_are_grouped(captures):
    limits = load_read_limits(CONFIG_DIR / "read.yaml")
    slices = list(slice_inputs(list_inputs([str(captures / "*")]).files, limits, PER_PIPELINE, 0))
    parts = [[(Path(f.path).name, f.part) for f in files] for files in slices]
    assert [len(files) for files in slices] == [1, 1, 1, 2, 1, 1, 1]
    assert [name for [(name, _)] in parts[:3]] == ["crawl.warc.gz"] * 3
    warc = [part for [(_, part)] in parts[:3]]
    assert [p.last for p in warc] == [False, False, True] and warc[0].first == 0
    assert warc[0].end == warc[1].first and warc[1].end == warc[2].first and warc[2].end is None
    assert parts[3] == [("story-90.txt", None), ("story-91.txt", None)]
    # 25 lines, two of them malformed (each a rejection with a position): parts start at lines 1, 11, 21
    assert parts[4:] == [[("wire.jsonl", Part(0, 11, False))], [("wire.jsonl", Part(11, 21, False))],
                         [("wire.jsonl", Part(21, None, True))]]
    assert list(slice_inputs(list_inputs([str(captures / "*")]).files, limits, 0, 0)) == [
        list_inputs([str(captures / "*")]).files]


def test_a_part_judges_again_only_its_own_range():
    """Rows of earlier parts are settled, rows of later parts wait for their own part."""
    scope = ReadScope({"/in/wire.jsonl": Part(11, 21, False), "/in/page.html": None})
    uris = ["/in/wire.jsonl#line=10", "/in/wire.jsonl#line=11", "/in/wire.jsonl#line=20", "/in/wire.jsonl#line=21",
            "/in/wire.jsonl", "/in/page.html", "/in/other.jsonl#line=12"]
    assert [scope.reads(uri) for uri in uris] == [False, True, True, False, False, True, False]
    assert [scope.reads_later(uri) for uri in uris] == [False, False, False, True, False, False, False]
    assert [scope.reads_again(uri) for uri in uris] == [False, True, True, True, False, True, False]
    assert ReadScope({"/in/wire.jsonl": Part(21, None, True)}).reads("/in/wire.jsonl")  # a whole-file rejection
    # a committed row at a line the rewritten file no longer has is settled, as when the whole file is read
    shrunk = ReadScope({"/in/wire.jsonl": Part(0, 11, False, vanished=(30, 31))})
    uris = ["/in/wire.jsonl#line=12", "/in/wire.jsonl#line=30", "/in/wire.jsonl#line=32"]
    assert [shrunk.reads_later(uri) for uri in uris] == [True, False, True]
    assert [shrunk.reads_again(uri) for uri in uris] == [True, True, True]


def test_the_pre_pass_finds_committed_positions_the_file_has_no_capture_at(captures):
    limits = load_read_limits(CONFIG_DIR / "read.yaml")
    wire = [item for item in list_inputs([str(captures / "*")]).files if item.path.endswith("wire.jsonl")]
    committed = {wire[0].path: array("q", [3, 25, 26, 40])}  # the file has lines 1-25
    slices = list(slice_inputs(wire, limits, PER_PIPELINE, 0, lambda path: committed.get(path, array("q"))))
    assert [files[0].part for files in slices] == [Part(0, 11, False, (26, 40)), Part(11, 21, False, (26, 40)),
                                                   Part(21, None, True)]


@pytest.mark.slow
def test_parts_write_exactly_what_the_whole_file_writes_and_a_rerun_adds_nothing(captures, tmp_path):
    cut, whole = tmp_path / "cut", tmp_path / "whole"
    assert run(captures, cut, PER_PIPELINE) == EXIT_OK
    assert run(captures, whole, 0) == EXIT_OK
    rows = written(cut)
    assert rows == written(whole)
    assert len(rows["articles"]) == 25 - 2 + 24 + 2 and len(rows["rejected"]) == 2
    assert len(rows["ledger"]) == 4  # each file committed once, by its last part
    assert run(captures, cut, PER_PIPELINE) == EXIT_NOTHING_TO_DO
    assert written(cut) == rows


@pytest.mark.slow
def test_a_rewritten_large_file_replaces_its_rows_exactly(captures, tmp_path):
    """Lines changed in every part, one line turned malformed, one malformed line mended, lines added."""
    cut, whole = tmp_path / "cut", tmp_path / "whole"
    assert run(captures, cut, PER_PIPELINE) == EXIT_OK
    assert run(captures, whole, 0) == EXIT_OK
    write_jsonl(captures / "wire.jsonl", range(31), changed=frozenset({2, 12, 22, 27}))
    lines = (captures / "wire.jsonl").read_text().splitlines(keepends=True)
    lines[6], lines[5] = "{not json either\n", lines[6].replace("wire.example/6", "wire.example/5")
    (captures / "wire.jsonl").write_text("".join(lines))
    os.utime(captures / "wire.jsonl", (MTIME + 60, MTIME + 60))
    assert run(captures, cut, PER_PIPELINE) == EXIT_OK
    assert run(captures, whole, 0) == EXIT_OK
    rows = written(cut)
    assert rows["articles"] == written(whole)["articles"]
    assert rows["rejected"] == written(whole)["rejected"]
    bodies = {uri.rpartition("#")[2]: body for uri, _, body, _, _ in rows["articles"] if "wire.jsonl" in uri}
    assert "number 512 " in bodies["line=13"] and "number 6 " in bodies["line=6"] and "line=7" not in bodies
    assert len([uri for uri, *_ in rows["articles"] if "wire.jsonl" in uri]) == len(bodies) == 31 - 2


@pytest.mark.slow
def test_captures_moved_to_an_earlier_part_of_a_shrunk_or_reordered_file_stay_one_row_each(captures, tmp_path):
    """A rewrite moves late stories to the first part and drops the rest (JSONL), or reverses the records,
    so every offset moves (WARC): the cut run keeps one row per article, as the whole-file run does."""
    cut, whole = tmp_path / "cut", tmp_path / "whole"
    assert run(captures, cut, PER_PIPELINE) == EXIT_OK
    assert run(captures, whole, 0) == EXIT_OK
    write_jsonl(captures / "wire.jsonl", [24, 23, 22, 21, 20, 0, 1, 2, 3, 4, 6, 7])
    write_warc(captures / "crawl.warc.gz", list(reversed(range(24))))
    for path in (captures / "wire.jsonl", captures / "crawl.warc.gz"):
        os.utime(path, (MTIME + 60, MTIME + 60))
    assert run(captures, cut, PER_PIPELINE) == EXIT_OK
    assert run(captures, whole, 0) == EXIT_OK
    query = f"select source_uri, article_id, body from {ARTICLES} order by source_uri"
    rows = duckdb.sql(query.format(out=cut)).fetchall()
    assert rows == duckdb.sql(query.format(out=whole)).fetchall()
    ids = [article_id for _, article_id, _ in rows]
    # lines 9-12 held stories 8-11 and now hold others: those four are gone; every other story stays once
    assert len(ids) == len(set(ids)) == 25 - 2 - 4 + 24 + 2


@pytest.mark.slow
def test_a_run_killed_between_parts_is_completed_by_the_next(captures, tmp_path):
    cut, whole = tmp_path / "cut", tmp_path / "whole"
    assert run(captures, whole, 0) == EXIT_OK
    command = [sys.executable, "-m", "pipeline.cli", "--log-level", "INFO", "run", "--input", str(captures),
               "--output", str(cut), "--quiet", "--entities", "off", "--workers", "1",
               "--config", config(tmp_path, PER_PIPELINE)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    started = next((line for line in iter(process.stderr.readline, "") if "pipeline 3:" in line), "")
    os.killpg(process.pid, signal.SIGKILL)  # the WARC's first two parts are committed, its last is not
    process.communicate()
    assert "from position" in started and process.returncode == -signal.SIGKILL
    assert duckdb.sql(f"select count(*) from {ARTICLES.format(out=cut)}").fetchall()[0][0] > 0
    assert not list(cut.glob("_ledger/*.parquet"))
    assert run(captures, cut, PER_PIPELINE) == EXIT_OK
    assert written(cut) == written(whole)
