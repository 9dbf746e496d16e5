"""Hostile captures in one real run: each ends as its exact rejection or a correct article, and all are counted.

The inputs come from ``tests/bad_inputs/make_bad_inputs.py`` (generated into a temporary folder, the
50 MB page and the gzip bombs included) plus three good fixture pages. The gzip-bomb cap is lowered in
a copy of the configs so the bombs stay small and fast.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from bad_inputs.make_bad_inputs import JAPANESE_STORY, MIB, write_bad_inputs
from bad_inputs.outputs import article_rows, config_copy, rejected_rows

from pipeline.captures import source_file
from pipeline.cli import main
from pipeline.cli.options import EXIT_NOTHING_READ, EXIT_OK, EXIT_REJECTED

FIXTURES = Path(__file__).parent / "fixtures"
BOMB_CAP = 4 * MIB

# Outcome of every capture of every input file, in reading order: "article", "duplicate" or a reason.
EXPECTED: dict[str, list[str]] = {
    "empty.txt": ["empty_file"],
    "empty.html": ["empty_file"],
    "empty.jsonl": ["empty_file"],
    "empty.warc": ["empty_file"],
    "empty.html.gz": ["empty_file"],
    "whitespace.html": ["empty_file"],
    "junk.html": ["binary_content"],
    "junk.txt": ["binary_content"],
    "junk.jsonl": ["binary_content"],
    "photo.html": ["binary_content"],
    "gzip-in-gzip.html.gz": ["binary_content"],
    "truncated.html.gz": ["truncated_gzip"],
    "bomb.txt.gz": ["too_large"],
    "bomb.jsonl.gz": ["article", "article", "too_large"],
    "truncated.warc.gz": ["article", "article", "truncated_warc"],
    "long-content-length.warc": ["article", "truncated_warc"],
    "short-content-length.warc": ["corrupt_warc", "article"],
    "not-html.warc.gz": ["not_html", "not_html", "not_html"],
    "http-errors.warc": ["http_status", "empty_payload", "article"],
    "invalid-utf8.html": ["article"],
    "mixed-encodings.txt": ["article"],
    "shift-jis-claims-utf8.html": ["article"],
    "utf8-claims-latin1.html": ["article"],
    "undecodable.html": ["undecodable"],
    "nested-100000.html": ["no_article_text"],
    "big-page.html": ["too_large"],
    "no-text.html": ["no_article_text"],
    "only-markup.html": ["no_article_text"],
    "feed.jsonl": ["article", "malformed_json", "malformed_json", "missing_content", "bad_field", "bad_field",
                   "missing_content", "article", "malformed_json", "malformed_json", "article", "bad_field",
                   "duplicate"],
    "latin1-line.jsonl": ["malformed_json", "article"],
    "sidecar-bad-dates.txt": ["article"],
    "sidecar-future.txt": ["article"],
    "sidecar-broken.txt": ["article"],
    "mtime-zero.txt": ["no_date"],
    "only-furniture.txt": ["only_furniture"],
    "only-furniture.html": ["only_furniture"],
    # good captures; the last line of feed.jsonl repeats chip-plant.html's URL
    "chip-plant.html": ["article"],
    "sequia.html": ["article"],
    "seed_shaped.txt": ["article"],
}


def _reading_order(source_uri: str) -> tuple[str, float]:
    """File, then record offset or line; a file-level failure comes after the records read before it."""
    path, _, fragment = source_uri.partition("#")
    return Path(path).name, float(fragment.split("=")[1]) if fragment else math.inf


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory) -> dict:
    """One run over every bad input and three good pages; its exit code, output and rows."""
    captures = tmp_path_factory.mktemp("captures")
    names = write_bad_inputs(captures)
    for name in ("chip-plant.html", "sequia.html", "seed_shaped.txt"):
        shutil.copy(FIXTURES / name, captures / name)
    config = config_copy(tmp_path_factory.mktemp("cfg") / "configs", max_decompressed_bytes=BOMB_CAP)
    output = tmp_path_factory.mktemp("out")
    code = main(["run", "--input", str(captures), "--output", str(output), "--config", str(config), "--quiet",
                 "--entities", "off"])
    return {"code": code, "output": output, "names": names, "articles": article_rows(output),
            "rejected": rejected_rows(output)}


def _outcomes(run: dict) -> dict[str, list[str]]:
    """Observed outcome of each capture that left a row, per input file, in reading order."""
    found = [(row["source_uri"], "article") for row in run["articles"]]
    found += [(row["source_uri"], row["reason"]) for row in run["rejected"]]
    by_file: dict[str, list[str]] = {}
    for uri, outcome in sorted(found, key=lambda item: _reading_order(item[0])):
        by_file.setdefault(Path(source_file(uri)).name, []).append(outcome)
    return by_file


def _article(run: dict, name: str) -> dict:
    [row] = [row for row in run["articles"] if Path(row["source_uri"]).name == name]
    return row


def test_every_bad_input_has_its_exact_outcome(bad_run):
    assert sorted(EXPECTED) == sorted([*bad_run["names"], "chip-plant.html", "sequia.html", "seed_shaped.txt"])
    observed = _outcomes(bad_run)
    assert observed == {name: [o for o in outcomes if o != "duplicate"] for name, outcomes in EXPECTED.items()}
    tried = Counter(outcome for name in bad_run["names"] for outcome in EXPECTED[name])
    print(f"\nbad inputs: {len(bad_run['names'])} files, {sum(tried.values())} captures; outcomes: "
          + ", ".join(f"{outcome} {n}" for outcome, n in tried.most_common()))


def test_run_succeeds_and_accounts_for_every_capture_in_total(bad_run):
    assert bad_run["code"] == EXIT_OK
    [summary_file] = (bad_run["output"] / "_runs").glob("*.json")
    summary = json.loads(summary_file.read_text())
    expected = Counter(outcome for outcomes in EXPECTED.values() for outcome in outcomes)
    reasons = {reason: n for reason, n in expected.items() if reason not in ("article", "duplicate")}
    assert summary["status"] == "succeeded"
    assert summary["captures_read"] == sum(expected.values())
    assert summary["captures_read"] == (summary["articles_written"] + summary["duplicates_in_run"]
                                        + summary["already_committed"] + summary["rejected"]
                                        + summary["skipped_outside_window"])
    assert (summary["articles_written"], summary["duplicates_in_run"]) == (expected["article"], expected["duplicate"])
    assert summary["rejected_by_reason"] == reasons
    print(f"\ncaptures read {summary['captures_read']} = articles {summary['articles_written']} + duplicates "
          f"{summary['duplicates_in_run']} + rejected {summary['rejected']}; lost 0")


def test_ledger_accounts_for_every_capture_of_every_file(bad_run):
    ledger = duckdb.sql(f"select path, captures, articles, duplicates, rejected, skipped "
                        f"from read_parquet('{bad_run['output']}/_ledger/*.parquet')").fetchall()
    by_name = {Path(path).name: tallies for path, *tallies in ledger}
    assert sorted(by_name) == sorted(EXPECTED)
    for name, outcomes in EXPECTED.items():
        captures, articles, duplicates, rejected, skipped = by_name[name]
        assert captures == articles + duplicates + rejected + skipped == len(outcomes), name
        assert (articles, duplicates, skipped) == (outcomes.count("article"), outcomes.count("duplicate"), 0), name


def test_rejections_say_which_limit_and_which_record(bad_run):
    details = {(Path(row["source_uri"]).name, row["reason"]): row["detail"] for row in bad_run["rejected"]}
    assert f"max_decompressed_bytes ({BOMB_CAP})" in details["bomb.txt.gz", "too_large"]
    assert f"max_decompressed_bytes ({BOMB_CAP})" in details["bomb.jsonl.gz", "too_large"]
    assert "max_capture_bytes (10485760)" in details["big-page.html", "too_large"]
    assert all(detail for detail in details.values())
    lines = {row["source_uri"].rsplit("#", 1)[1]: row["reason"] for row in bad_run["rejected"]
             if "feed.jsonl#" in row["source_uri"]}
    assert lines == {"line=2": "malformed_json", "line=3": "malformed_json", "line=4": "missing_content",
                     "line=5": "bad_field", "line=6": "bad_field", "line=7": "missing_content",
                     "line=9": "malformed_json", "line=11": "malformed_json", "line=13": "bad_field"}
    stages = Counter(row["stage"] for row in bad_run["rejected"])
    assert stages["clean"] == 5 and stages["enrich"] == 1  # only_furniture 2, no_article_text 3; no_date


def test_misdeclared_and_damaged_encodings_decode_to_the_right_text(bad_run):
    japanese = _article(bad_run, "shift-jis-claims-utf8.html")
    assert (japanese["title"], japanese["body"]) == ("区議会が図書館計画を可決", JAPANESE_STORY)
    assert japanese["word_count"] == sum(1 for char in JAPANESE_STORY if char not in "、。") == 91
    latin = _article(bad_run, "utf8-claims-latin1.html")["body"]
    assert "crème brûlée sold out; a naïve façade, déjà vu." in latin
    damaged = _article(bad_run, "invalid-utf8.html")["body"]
    assert "The café on the quay will stay open. Déjà vu, said the owner." in damaged
    assert "second vote, cafÃ and more" in damaged  # the byte left of a cut character, read as Windows-1252
    mixed = _article(bad_run, "mixed-encodings.txt")["body"]
    assert "Zoë Brontë-Müller, said the crème brûlée and the smörgåsbord" in mixed
    assert mixed.endswith("Déjà vu, said the façade committee.")
    for row in bad_run["articles"]:
        assert "Ã©" not in row["body"] and "\ufffd" not in row["body"], row["source_uri"]


def test_bad_and_future_dates_fall_back_to_the_next_source(bad_run):
    mtime_day = date(2024, 3, 5)
    for name in ("sidecar-bad-dates.txt", "sidecar-broken.txt", "sidecar-future.txt"):
        row = _article(bad_run, name)
        assert (row["captured_at_source"], row["date_source"], row["date"]) == ("file_mtime", "capture_time",
                                                                                mtime_day), name
    assert _article(bad_run, "sidecar-future.txt")["url"] == "https://local.example/future"
    assert _article(bad_run, "sidecar-bad-dates.txt")["section_source"] in {"inferred", "none"}  # not the list
    feed = {row["source_uri"].rsplit("#", 1)[1]: row for row in bad_run["articles"]
            if "feed.jsonl#" in row["source_uri"]}
    assert (feed["line=1"]["captured_at"], feed["line=1"]["section"]) == (datetime(2024, 3, 1, 9, tzinfo=UTC),
                                                                          "local")
    assert feed["line=8"]["captured_at_source"] == "file_mtime"
    assert (feed["line=12"]["date"], feed["line=12"]["date_source"]) == (date(2024, 3, 2), "capture_time")
    assert max(row["date"] for row in bad_run["articles"]) < date(2030, 1, 1)


def test_records_around_a_damaged_one_are_kept_whole(bad_run):
    titles = {}
    for row in bad_run["articles"]:
        if ".warc" in row["source_uri"]:
            assert row["captured_at"] == datetime(2024, 3, 4, 10, tzinfo=UTC), row["source_uri"]
            assert row["body"].endswith("can begin."), row["source_uri"]
            titles.setdefault(Path(source_file(row["source_uri"])).name, []).append(row["title"].rsplit(" (", 1)[1])
    assert titles == {"truncated.warc.gz": ["story 3)", "story 4)"], "long-content-length.warc": ["story 6)"],
                      "short-content-length.warc": ["story 9)"], "http-errors.warc": ["story 11)"]}


@pytest.mark.slow
def test_strictness_and_unreadable_inputs_set_the_exit_code(tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "empty.txt").write_bytes(b"")
    (junk / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    assert main(["run", "--input", str(junk), "--output", str(tmp_path / "out1"), "--quiet",
                 "--entities", "off"]) == EXIT_NOTHING_READ
    shutil.copy(FIXTURES / "seed_shaped.txt", junk / "seed_shaped.txt")
    assert main(["run", "--input", str(junk), "--output", str(tmp_path / "out2"), "--quiet", "--entities", "off",
                 "--fail-on-reject"]) == EXIT_REJECTED
