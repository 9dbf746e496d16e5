"""The committed-key index: a cache that is used only while it still describes the files, in any run."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline.cli import main
from pipeline.config import CONFIG_DIR
from pipeline.output import key_index
from pipeline.output.key_index import KEY_INDEX_DIR, KeyIndexSettings, KeyReads, committed_rows
from pipeline.output.sink import replace_parquet_file, write_parquet_files

FIXTURES = Path(__file__).parent / "fixtures"
KEYS = pa.schema([("article_id", pa.string()), ("source_uri", pa.string())])
GLOB = "date=*/section=*/*.parquet"
EAGER = KeyIndexSettings(settle_seconds=0)


def write_file(output: Path, partition: str, rows: list[tuple[str, str]]) -> Path:
    """One committed data file holding ``(article_id, source_uri)`` rows."""
    [(path, _)] = write_parquet_files(str(output / partition), [{"article_id": k, "source_uri": u} for k, u in rows],
                                      KEYS, "part", 10**6)
    return Path(path)


def rows_and_reads(output: Path, settings: KeyIndexSettings = EAGER) -> tuple[set[tuple], KeyReads]:
    reads = KeyReads()
    found = {(key, Path(path).name, uri) for key, path, uri in committed_rows(str(output), GLOB, "article_id",
                                                                                settings, reads)}
    return found, reads


def index_files(output: Path) -> list[Path]:
    return sorted((output / KEY_INDEX_DIR / "article_id").glob("*.parquet"))


@pytest.fixture
def output(tmp_path) -> Path:
    folder = tmp_path / "out"
    write_file(folder, "date=2024-01-01/section=world", [("a1", "file:///in/a.txt"), ("a2", "file:///in/b.txt")])
    write_file(folder, "date=2024-01-02/section=business", [("b1", "file:///in/c.html")])
    return folder


def test_keys_are_read_from_the_files_once_then_from_the_index(output):
    first, reads = rows_and_reads(output)
    assert (reads.indexed, reads.read) == (0, 2)
    assert {key for key, _, _ in first} == {"a1", "a2", "b1"}
    assert len(index_files(output)) == 1
    again, reads = rows_and_reads(output)
    assert again == first
    assert (reads.indexed, reads.read) == (2, 0)


def test_a_rewritten_file_is_read_again_and_not_taken_from_its_stale_entry(output):
    rows_and_reads(output)
    [old] = (output / "date=2024-01-01/section=world").glob("*.parquet")
    replace_parquet_file(str(old), [{"article_id": "a1", "source_uri": "file:///in/a.txt"},
                                    {"article_id": "a9", "source_uri": "file:///in/z.txt"}], KEYS)
    found, reads = rows_and_reads(output)
    assert {key for key, _, _ in found} == {"a1", "a9", "b1"}
    assert (reads.indexed, reads.read) == (1, 1)


def test_a_file_with_the_same_size_but_another_time_is_read_again(output):
    rows_and_reads(output)
    [old] = (output / "date=2024-01-02/section=business").glob("*.parquet")
    replace_parquet_file(str(old), [{"article_id": "b2", "source_uri": "file:///in/c.html"}], KEYS)
    os.utime(old, (time.time() + 30, time.time() + 30))
    found, reads = rows_and_reads(output)
    assert {key for key, _, _ in found} == {"a1", "a2", "b2"}
    assert reads.read == 1


def test_files_younger_than_the_settle_time_are_not_indexed(output):
    settling = KeyIndexSettings(settle_seconds=3600)
    rows_and_reads(output, settling)
    assert index_files(output) == []
    _, reads = rows_and_reads(output, settling)
    assert (reads.indexed, reads.read) == (0, 2)


def test_without_the_index_every_file_is_read_and_nothing_is_written(output):
    off = KeyIndexSettings(enabled=False)
    for _ in range(2):
        _, reads = rows_and_reads(output, off)
        assert (reads.indexed, reads.read) == (0, 2)
    assert not (output / KEY_INDEX_DIR).exists()


def test_index_files_are_merged_keeping_only_entries_of_files_that_still_exist(output):
    merging = KeyIndexSettings(settle_seconds=0, merge_after=2)
    rows_and_reads(output, merging)
    gone = write_file(output, "date=2024-01-03/section=world", [("c1", "file:///in/d.txt")])
    rows_and_reads(output, merging)
    write_file(output, "date=2024-01-04/section=world", [("d1", "file:///in/e.txt")])
    gone.unlink()
    found, _ = rows_and_reads(output, merging)  # a third index file would make three: merged into one
    [merged] = index_files(output)
    indexed = duckdb.sql(f"select file, key from '{merged}' order by key").fetchall()
    assert [key for _, key in indexed] == ["a1", "a2", "b1", "d1"]
    again, reads = rows_and_reads(output, merging)
    assert again == found and (reads.indexed, reads.read) == (3, 0)


def test_index_files_stay_below_their_row_limit(output, monkeypatch):
    monkeypatch.setattr(key_index, "INDEX_FILE_ROWS", 2)
    first, _ = rows_and_reads(output)
    sizes = sorted(duckdb.sql(f"select count(*) from '{path}'").fetchall()[0][0] for path in index_files(output))
    assert sizes == [1, 2]
    again, reads = rows_and_reads(output)
    assert again == first and (reads.indexed, reads.read) == (2, 0)


def test_a_file_s_entries_are_never_split_between_index_files(output, monkeypatch):
    """Cut at the row limit, 3,000 entries of one file (written in row groups of 2,000) would straddle two."""
    monkeypatch.setattr(key_index, "INDEX_FILE_ROWS", 2500)
    write_file(output, "date=2024-01-01/section=politics", [(f"p{i}", f"file:///in/p{i}.txt") for i in range(3000)])
    first, _ = rows_and_reads(output)
    owners = duckdb.sql("select file, count(distinct filename) from read_parquet(?, filename = true) group by 1",
                        params=[[str(path) for path in index_files(output)]]).fetchall()
    assert len(owners) == 3 and all(count == 1 for _, count in owners)
    again, reads = rows_and_reads(output)
    assert again == first and len(again) == 3003 and (reads.indexed, reads.read) == (3, 0)


def test_a_damaged_index_file_is_not_used_and_the_files_are_read(output, caplog):
    rows_and_reads(output)
    [index] = index_files(output)
    index.write_bytes(b"PAR1 not a parquet file")
    with caplog.at_level(logging.WARNING, logger="pipeline.output.key_index"):
        found, reads = rows_and_reads(output)
    assert {key for key, _, _ in found} == {"a1", "a2", "b1"}
    assert (reads.indexed, reads.read) == (0, 2)
    assert "not used" in caplog.text


def test_an_index_that_cannot_be_written_only_costs_reading_the_files(output, caplog):
    (output / KEY_INDEX_DIR).mkdir()
    (output / KEY_INDEX_DIR / "article_id").write_text("a file where the index folder would go")
    for _ in range(2):
        with caplog.at_level(logging.WARNING, logger="pipeline.output.key_index"):
            found, reads = rows_and_reads(output)
        assert {key for key, _, _ in found} == {"a1", "a2", "b1"} and (reads.indexed, reads.read) == (0, 2)
    assert "not written" in caplog.text


def test_a_moved_output_folder_keeps_its_index(output, tmp_path):
    first, _ = rows_and_reads(output)
    moved = tmp_path / "moved"
    os.rename(output, moved)
    found, reads = rows_and_reads(moved)
    assert found == first and (reads.indexed, reads.read) == (2, 0)


# Whole runs with the index used as soon as a file is written (settle_seconds: 0).

@pytest.fixture
def eager_config(tmp_path) -> Path:
    path = tmp_path / "eager.yaml"
    path.write_text(json.dumps({"extends": str(CONFIG_DIR / "local.yaml"),
                                "output": {"key_index": {"settle_seconds": 0}}}))
    return path


def run(captures: Path, output: Path, config: Path) -> dict:
    assert main(["run", "--input", str(captures), "--output", str(output), "--quiet", "--entities", "off",
                 "--config", str(config)]) == 0
    return max((json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")), key=lambda r: r["started_at"])


def articles(output: Path) -> list[tuple[str, str]]:
    return duckdb.sql(f"select source_uri, body from read_parquet('{output}/{GLOB}') order by source_uri").fetchall()


@pytest.mark.slow
def test_runs_find_duplicates_and_rewrites_through_the_index(tmp_path, eager_config):
    captures, output = tmp_path / "captures", tmp_path / "out"
    captures.mkdir()
    for name in ("seed_shaped.txt", "chip-plant.html", "sequia.html"):
        shutil.copy(FIXTURES / name, captures / name)
    run(captures, output, eager_config)
    shutil.copy(FIXTURES / "chip-plant.html", captures / "chip-plant-copy.html")
    second = run(captures, output, eager_config)  # reads every committed file, and indexes them
    assert second["already_committed"] == 1
    assert second["committed_files"]["read"] >= 3 and "indexed" not in second["committed_files"]

    seed = captures / "seed_shaped.txt"
    seed.write_text(seed.read_text().replace("three border crossings", "four border crossings"))
    os.utime(seed, (time.time() + 5, time.time() + 5))
    third = run(captures, output, eager_config)  # the seed's committed row is found in the index, superseded
    assert third["replaced"] == 1
    assert third["committed_files"]["indexed"] >= 3 and "read" not in third["committed_files"]

    shutil.copy(FIXTURES / "seed_shaped.txt", captures / "seed-original.txt")
    shutil.copy(FIXTURES / "sequia.html", captures / "sequia-copy.html")
    fourth = run(captures, output, eager_config)  # the rewritten file's entry is stale: that file is read
    assert fourth["committed_files"]["read"] >= 1 and fourth["committed_files"]["indexed"] >= 1
    assert fourth["already_committed"] == 1 and fourth["articles_written"] == 1
    rows = articles(output)
    assert len(rows) == len({uri for uri, _ in rows}) == 4
    bodies = {Path(uri).name: body for uri, body in rows}
    assert "four border crossings" in bodies["seed_shaped.txt"]
    assert "three border crossings" in bodies["seed-original.txt"]


def dead_letters(output: Path) -> list[tuple[str, str]]:
    return sorted((Path(uri).name, reason) for path in output.glob("_rejected/*.parquet")
                  for uri, reason in duckdb.sql(f"select source_uri, reason from '{path}'").fetchall())


@pytest.mark.slow
def test_rejections_found_through_the_index_are_withdrawn_when_their_captures_become_articles(tmp_path,
                                                                                               eager_config):
    captures, output = tmp_path / "captures", tmp_path / "out"
    captures.mkdir()
    shutil.copy(FIXTURES / "sequia.html", captures / "sequia.html")
    for name in ("later.txt", "other.txt"):
        (captures / name).write_bytes(b"")
    run(captures, output, eager_config)
    shutil.copy(FIXTURES / "chip-plant.html", captures / "chip-plant.html")
    run(captures, output, eager_config)  # indexes the committed article and dead-letter files
    for number, name in enumerate(("later.txt", "other.txt"), start=1):
        capture = captures / name
        capture.write_text((FIXTURES / "seed_shaped.txt").read_text().replace("three", f"{number + 3}"))
        os.utime(capture, (time.time() + 5 * number, time.time() + 5 * number))
        # later.txt: its rejection comes from the index; other.txt: from the dead-letter file that withdrawing
        # later.txt's rewrote, whose index entry is stale by then
        withdrawn = run(captures, output, eager_config)
        assert withdrawn["rejections_withdrawn"] == 1 and withdrawn["committed_files"]["indexed"] >= 2
    assert dead_letters(output) == []
    names = [Path(uri).name for uri, _ in articles(output)]
    assert names == ["chip-plant.html", "later.txt", "other.txt", "sequia.html"]
