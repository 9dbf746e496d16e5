"""Syndicated copies of one story share a ``story_id``: MinHash LSH over word shingles."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import apache_beam as beam
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from datasketch import MinHashLSH

from pipeline.cli import main
from pipeline.graph.batch import GroupStories
from pipeline.graph.stages import Resolved
from pipeline.output.story_index import committed_stories, write_stories
from transforms.stories import StorySettings, band_keys, group_stories, shingles, signature, wanted

STORIES = Path(__file__).parent / "fixtures" / "stories"
SETTINGS = StorySettings()


def body(name: str) -> str:
    return (STORIES / name).read_text()


def test_shingles_are_runs_of_folded_words():
    assert shingles("The Port, the PORT!", 2) == {"the port", "port the"}
    assert shingles("One two three", 2) == {"one two", "two three"}
    assert shingles("", 5) == set()


def test_a_copy_with_a_paragraph_dropped_and_a_credit_added_is_the_same_story():
    found = group_stories([(name, signature(body(name), SETTINGS))
                           for name in ("velmar-wire.txt", "velmar-copy.txt", "velmar-other.txt")], SETTINGS)
    assert found["velmar-wire.txt"] == found["velmar-copy.txt"]
    assert found["velmar-other.txt"] != found["velmar-wire.txt"]  # same topic and names, another story


def test_copies_linked_through_a_third_are_one_story_named_after_the_smallest_id():
    wire = body("velmar-wire.txt")
    paragraphs = wire.split("\n\n")
    first_half = "\n\n".join(paragraphs[:5])
    second_half = "\n\n".join(paragraphs[3:])
    found = group_stories([("c", signature(second_half, SETTINGS)), ("a", signature(wire, SETTINGS)),
                           ("b", signature(first_half, SETTINGS))], StorySettings(threshold=0.4))
    assert found["a"] == found["b"] == found["c"]
    assert found == group_stories([("b", signature(first_half, SETTINGS)), ("a", signature(wire, SETTINGS)),
                                   ("c", signature(second_half, SETTINGS))], StorySettings(threshold=0.4))


def test_a_short_body_is_a_story_of_its_own():
    short = "Velmar port strike ends after pay deal, union says."
    assert signature(short, SETTINGS) is None
    found = group_stories([("a", signature(short, SETTINGS)), ("b", signature(short, SETTINGS))], SETTINGS)
    assert found["a"] != found["b"]


def partition(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """``(article_id, story_id)`` pairs as the sorted lists of articles sharing a story."""
    stories = defaultdict(list)
    for article, story in pairs:
        stories[story].append(article)
    return sorted(sorted(articles) for articles in stories.values())


def test_group_stories_gives_every_row_its_story_and_an_index_entry_to_each_with_a_signature():
    rows = [{"article_id": name, "body": body(name)}
            for name in ("velmar-wire.txt", "velmar-copy.txt", "velmar-other.txt")]
    rows.append({"article_id": "short", "body": "Velmar port strike ends after pay deal, union says."})
    with TestPipeline() as pipeline:
        grouped = pipeline | beam.Create([Resolved(row) for row in rows]) | GroupStories(SETTINGS)
        found = grouped["rows"] | beam.Map(lambda r: (r.row["article_id"], r.row["story_id"]))
        assert_that(found | "Rows" >> beam.combiners.ToList() | "RowStories" >> beam.Map(partition),
                    equal_to([[["short"], ["velmar-copy.txt", "velmar-wire.txt"], ["velmar-other.txt"]]]),
                    label="Rows")
        entries = grouped["entries"] | beam.Map(lambda entry: (entry[0], entry[1], entry[2].jaccard(entry[2])))
        assert_that(entries | "Entries" >> beam.combiners.ToList() | "EntryStories" >> beam.Map(
                        lambda found: partition([(key, story) for key, story, _ in found])),
                    equal_to([[["velmar-copy.txt", "velmar-wire.txt"], ["velmar-other.txt"]]]), label="Entries")


def test_a_run_over_seed_shaped_copies_writes_a_shared_story_id(tmp_path):
    captures = tmp_path / "in"
    shutil.copytree(STORIES, captures)
    assert main(["run", "--input", str(captures), "--output", str(tmp_path / "out"), "--quiet"]) == 0
    glob = f"{tmp_path}/out/date=*/section=*/*.parquet"
    found = dict(duckdb.sql(f"select regexp_extract(source_uri, '[^/]+$'), story_id from read_parquet('{glob}', "
                            "hive_partitioning=true)").fetchall())
    assert set(found) == {"velmar-wire.txt", "velmar-copy.txt", "velmar-other.txt"}
    assert found["velmar-wire.txt"] == found["velmar-copy.txt"] != found["velmar-other.txt"]
    assert all(story.startswith("story:") for story in found.values())


def test_a_copy_of_an_earlier_story_takes_its_story_id():
    earlier = [("wire", "story:earlier", signature(body("velmar-wire.txt"), SETTINGS))]
    found = group_stories([("copy", signature(body("velmar-copy.txt"), SETTINGS)),
                           ("other", signature(body("velmar-other.txt"), SETTINGS))], SETTINGS, earlier)
    assert found == {"copy": "story:earlier", "other": found["other"]}
    assert found["other"] != "story:earlier"


def test_earlier_stories_are_not_merged_and_the_smallest_wins():
    wire = signature(body("velmar-wire.txt"), SETTINGS)
    earlier = [("a", "story:2", wire), ("b", "story:1", wire)]
    assert group_stories([("c", signature(body("velmar-copy.txt"), SETTINGS))], SETTINGS, earlier) == {"c": "story:1"}
    assert group_stories([("a", None)], SETTINGS, earlier) == {"a": "story:2"}  # an article seen before keeps its own


def test_signatures_made_with_other_settings_are_not_compared():
    earlier = [("wire", "story:earlier", signature(body("velmar-wire.txt"), StorySettings(num_perm=64)))]
    found = group_stories([("copy", signature(body("velmar-copy.txt"), SETTINGS))], SETTINGS, earlier)
    assert found["copy"] != "story:earlier"


def test_group_stories_joins_the_story_index_of_the_output(tmp_path):
    wire = signature(body("velmar-wire.txt"), SETTINGS)
    write_stories(str(tmp_path), "run1", [("wire", "story:earlier", wire)], SETTINGS)
    assert [(key, story) for key, story, _ in committed_stories(str(tmp_path), SETTINGS)] == [("wire", "story:earlier")]
    rows = [{"article_id": name, "body": body(name)} for name in ("velmar-copy.txt", "velmar-other.txt")]
    with TestPipeline() as pipeline:
        grouped = pipeline | beam.Create([Resolved(row) for row in rows]) | GroupStories(SETTINGS, str(tmp_path))
        found = (grouped["rows"]
                 | beam.Map(lambda r: (r.row["article_id"], r.row["story_id"] == "story:earlier")))
        assert_that(found, equal_to([("velmar-copy.txt", True), ("velmar-other.txt", False)]))


def index_entries(tmp_path: Path, schema: pa.Schema | None = None) -> Path:
    """A story index holding the wire story ("wire") and an unrelated story ("other"); with ``schema``, the
    index file is written with only those columns (an index made without band keys)."""
    entries = [("wire", "story:wire", signature(body("velmar-wire.txt"), SETTINGS)),
               ("other", "story:other", signature(body("velmar-other.txt"), SETTINGS))]
    write_stories(str(tmp_path), "run1", entries, SETTINGS)
    if schema is not None:
        (path,) = (tmp_path / "_stories").glob("*.parquet")
        pq.write_table(pq.read_table(path, columns=schema.names), path)
    return tmp_path


@pytest.mark.parametrize("schema", [None, pa.schema([("article_id", pa.string()), ("story_id", pa.string()),
                                                     ("signature", pa.binary())])], ids=["bands", "no-bands"])
def test_only_entries_sharing_an_id_or_a_band_key_are_read_back(tmp_path, schema):
    output = str(index_entries(tmp_path, schema))
    copy = ("copy", signature(body("velmar-copy.txt"), SETTINGS))
    found = committed_stories(output, SETTINGS, wanted([copy], SETTINGS))
    assert [(key, story) for key, story, _ in found] == [("wire", "story:wire")]
    found = committed_stories(output, SETTINGS, wanted([("other", None)], SETTINGS))  # the same article again
    assert [(key, story) for key, story, _ in found] == [("other", "story:other")]
    assert sorted(key for key, _, _ in committed_stories(output, SETTINGS)) == ["other", "wire"]


def test_band_keys_find_exactly_the_pairs_lsh_finds():
    texts = {path.name: path.read_text() for path in STORIES.glob("*.txt")}
    paragraphs = texts["velmar-wire.txt"].split("\n\n")
    texts.update({f"wire-from-{first}": "\n\n".join(paragraphs[first:]) for first in range(1, len(paragraphs) - 2)})
    names = sorted(texts)
    signatures = {name: signature(texts[name], SETTINGS) for name in names}
    lsh = MinHashLSH(threshold=SETTINGS.threshold, num_perm=SETTINGS.num_perm)
    for name in names:
        lsh.insert(name, signatures[name])
    pairs: set[tuple[str, str]] = set()
    for name in names:
        shared = {other for other in names if set(band_keys(signatures[name], SETTINGS))
                  & set(band_keys(signatures[other], SETTINGS))}
        assert shared == set(lsh.query(signatures[name]))
        pairs.update((name, other) for other in shared if other != name)
    assert pairs and len(pairs) < len(names) * (len(names) - 1)  # some pairs are candidates, not all


def test_a_later_runs_copy_of_a_story_gets_the_earlier_story_id(tmp_path):
    """Two runs into one output: the second carries a near-copy of the first's story, and a story of its own."""
    first, second, output = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    first.mkdir()
    second.mkdir()
    shutil.copy(STORIES / "velmar-wire.txt", first)
    shutil.copy(STORIES / "velmar-copy.txt", second)
    shutil.copy(STORIES / "velmar-other.txt", second)
    assert main(["run", "--input", str(first), "--output", str(output), "--quiet"]) == 0
    assert main(["run", "--input", str(second), "--output", str(output), "--quiet"]) == 0
    found = dict(duckdb.sql(f"select regexp_extract(source_uri, '[^/]+$'), story_id from read_parquet("
                            f"'{output}/date=*/section=*/*.parquet', hive_partitioning=true)").fetchall())
    assert set(found) == {"velmar-wire.txt", "velmar-copy.txt", "velmar-other.txt"}
    assert found["velmar-copy.txt"] == found["velmar-wire.txt"] != found["velmar-other.txt"]
    indexed = duckdb.sql(f"select count(*) from read_parquet('{output}/_stories/*.parquet')").fetchall()[0][0]
    assert indexed == 3
