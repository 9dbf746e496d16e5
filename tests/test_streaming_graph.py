"""The unbounded graph: windows, de-duplication and late data under TestStream, and how the engine graph is wired.

TestStream runs on the BundleBasedDirectRunner (Beam's Python streaming runner), named explicitly: the
bare DirectRunner may first try to download Prism.
"""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
import duckdb
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.common import DoFnSignature
from apache_beam.testing.test_stream import TestStream as EventStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from pipeline.cli import main
from pipeline.config import CONFIG_DIR, ConfigError, load_run_config
from pipeline.graph.streaming import (
    CapturesFromFiles,
    CapturesFromMessages,
    ResolveInPane,
    WriteStream,
    build_streaming_pipeline,
    message_path,
    stream_settings,
)
from pipeline.output.ledger import InputFile

RUN_ID = "20240601T000000Z-test"
T0 = 1_715_700_000  # 2024-05-14T15:20:00Z, a multiple of every window size used here
ON_TIME, LATE = 1, 2  # PaneInfoTiming.ON_TIME, .LATE
STORY = ("Harbour officials in {place} said on Monday that the new ferry terminal would open next spring, "
         "after two years of delays.\n\nThe terminal will handle four ferries an hour at peak times, "
         "the port authority said in a statement.")


def stream_config(**stream) -> dict:
    cfg = load_run_config()
    cfg["entities"] = {**cfg["entities"], "enabled": False}  # NER is the batch tests' business; keep this quick
    cfg["stream"] = {"source": "watch", "watch": "/inbox/**", "poll_seconds": 10, "window_seconds": 60,
                     "allowed_lateness_seconds": 60, "dedup_ttl_hours": 0.05, **stream}  # TTL: 180 s
    return cfg


def capture_file(folder: Path, name: str, slug: str, section: str = "business", day: str = "2024-05-14") -> InputFile:
    """A one-record JSONL capture of the story at ``https://port.example/<slug>`` (its ``article_id``)."""
    path = folder / f"{name}.jsonl"
    record = {"url": f"https://port.example/{section}/{slug}", "text": STORY.format(place=slug.title()),
              "fetched_at": f"{day}T09:00:00Z", "published_at": f"{day}T08:00:00Z", "section": section}
    path.write_text(json.dumps(record) + "\n")
    return InputFile(str(path), path.stat().st_size, path.stat().st_mtime)


def loose_copy(folder: Path, slug: str) -> InputFile:
    """The story of ``capture_file(…, slug)`` as a text file without URL, ``<slug>-copy.txt``: a ``body:`` id."""
    path = folder / f"{slug}-copy.txt"
    path.write_text(STORY.format(place=slug.title()) + "\n")
    return InputFile(str(path), path.stat().st_size, path.stat().st_mtime)


def at(element, seconds: int) -> TimestampedValue:
    """``element`` arriving ``seconds`` after T0."""
    return TimestampedValue(element, T0 + seconds)


def streaming_pipeline() -> beam.Pipeline:
    return beam.Pipeline(runner="BundleBasedDirectRunner", options=PipelineOptions(streaming=True))


class DescribePane(beam.DoFn):
    """A written file as (window start after T0, pane timing, slugs of its rows): what a window emitted."""

    def process(self, path, window=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        column = "url" if "section=" in path else "reason"
        values = pq.read_table(path, columns=[column]).column(column).to_pylist()
        yield int(window.start) - T0, pane.timing, tuple(sorted(value.rsplit("/", 1)[-1] for value in values))


def run_files(events: EventStream, cfg: dict, output: Path, panes: list, duplicates: list) -> None:
    """Run ``events`` (input files) through the streaming graph; check every pane it wrote and every duplicate.

    Duplicates are checked on the graph's ``duplicates`` output, not its counters: this runner reports
    only the counters of bundles before the first watermark advance.
    """
    pipeline = streaming_pipeline()
    written = (pipeline
               | "Events" >> events
               | "ReadFiles" >> CapturesFromFiles(cfg["read"])
               | "WriteStream" >> WriteStream(cfg, stream_settings(cfg), str(output), RUN_ID, "test"))
    described = (written["articles"], written["rejected"]) | beam.Flatten() | beam.ParDo(DescribePane())
    assert_that(described, equal_to(panes), label="Panes")
    repeats = written["duplicates"] | beam.Map(lambda repeat: (Path(repeat[1]).stem, repeat[2]))
    assert_that(repeats, equal_to(duplicates), label="Duplicates")
    pipeline.run().wait_until_finish()


def test_each_window_writes_its_new_articles_and_repeats_are_counted_not_written(tmp_path):
    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    first, second = capture_file(inbox, "a", "alpha"), capture_file(inbox, "b", "bravo", section="world")
    again = capture_file(inbox, "a-again", "alpha")  # another capture of the same article
    third, late = capture_file(inbox, "c", "charlie"), capture_file(inbox, "d", "delta", day="2024-05-10")
    too_late = capture_file(inbox, "e", "echo")
    events = (EventStream()
              .advance_watermark_to(T0 + 0)
              .add_elements([at(first, 10), at(second, 20)])
              .advance_watermark_to(T0 + 60)                    # window [0, 60) fires
              .add_elements([at(again, 70), at(third, 80)])
              .advance_watermark_to(T0 + 130)                   # window [60, 120) fires
              .add_elements([at(late, 100)])  # late for [60, 120), within 60 s of lateness
              .add_elements([at(too_late, 30)])  # [0, 60) is gone (60 s after its end)
              .advance_watermark_to_infinity())
    panes = [(0, ON_TIME, ("alpha",)), (0, ON_TIME, ("bravo",)),  # two partitions: business, world
             (60, ON_TIME, ("charlie",)), (60, LATE, ("delta",))]
    run_files(events, stream_config(), output, panes, duplicates=[("a-again", "duplicates_in_run")])

    found = duckdb.sql(f"select date::varchar, section, url from read_parquet('{output}/date=*/section=*/*.parquet',"
                       " hive_partitioning=true)").fetchall()
    assert sorted((url.rsplit("/", 1)[-1], day, section) for day, section, url in found) == [
        ("alpha", "2024-05-14", "business"), ("bravo", "2024-05-14", "world"),
        ("charlie", "2024-05-14", "business"), ("delta", "2024-05-10", "business")]
    assert not list(output.rglob("*.inprogress"))


def test_a_copy_without_url_of_a_row_with_url_is_a_duplicate_as_in_a_batch_run(tmp_path):
    record, copy = capture_file(tmp_path, "a", "alpha"), loose_copy(tmp_path, "alpha")
    events = (EventStream()
              .advance_watermark_to(T0 + 0)
              .add_elements([at(record, 10)])
              .advance_watermark_to(T0 + 15)
              .add_elements([at(copy, 20)])
              .advance_watermark_to_infinity())
    run_files(events, stream_config(), tmp_path / "out", [(0, ON_TIME, ("alpha",))],
              [("alpha-copy", "duplicates_in_run")])


def written_sources(output: Path) -> list[str]:
    """The capture file names of the article rows written under ``output``."""
    found = duckdb.sql(f"select source_uri from read_parquet('{output}/date=*/section=*/*.parquet')").fetchall()
    return sorted(Path(uri).stem for (uri,) in found)


def test_copies_in_one_window_keep_the_smallest_source_whatever_their_order(tmp_path):
    larger, smaller = capture_file(tmp_path, "z-first", "alpha"), capture_file(tmp_path, "a-second", "alpha")
    events = (EventStream()
              .advance_watermark_to(T0 + 0)
              .add_elements([at(larger, 10)])
              .advance_watermark_to(T0 + 15)
              .add_elements([at(smaller, 20)])
              .advance_watermark_to_infinity())
    output = tmp_path / "out"
    run_files(events, stream_config(), output, [(0, ON_TIME, ("alpha",))], [("z-first", "duplicates_in_run")])
    assert written_sources(output) == ["a-second"]


def test_a_copy_in_a_later_window_is_a_duplicate_of_the_row_written_before(tmp_path):
    earlier, later = capture_file(tmp_path, "z-earlier", "alpha"), capture_file(tmp_path, "a-later", "alpha")
    events = (EventStream()
              .advance_watermark_to(T0 + 0)
              .add_elements([at(earlier, 10)])
              .advance_watermark_to(T0 + 60)
              .add_elements([at(later, 70)])
              .advance_watermark_to_infinity())
    output = tmp_path / "out"
    run_files(events, stream_config(), output, [(0, ON_TIME, ("alpha",))], [("a-later", "duplicates_in_run")])
    assert written_sources(output) == ["z-earlier"]


def test_a_copy_without_url_arriving_first_in_a_window_gives_way_to_the_row_with_url(tmp_path):
    copy, record = loose_copy(tmp_path, "alpha"), capture_file(tmp_path, "a", "alpha")
    events = (EventStream()
              .advance_watermark_to(T0 + 0)
              .add_elements([at(copy, 10)])
              .advance_watermark_to(T0 + 15)
              .add_elements([at(record, 20)])
              .advance_watermark_to_infinity())
    output = tmp_path / "out"
    run_files(events, stream_config(), output, [(0, ON_TIME, ("alpha",))], [("alpha-copy", "duplicates_in_run")])
    assert written_sources(output) == ["a"]


def test_copies_meeting_in_one_window_are_resolved_as_a_batch_run_resolves_them(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    files = [loose_copy(inbox, "alpha"), capture_file(inbox, "z-first", "alpha"),  # the losers arrive first
             capture_file(inbox, "a-second", "alpha"), capture_file(inbox, "b", "bravo")]
    batch, stream = tmp_path / "batch", tmp_path / "stream"
    assert main(["run", "--input", str(inbox), "--output", str(batch), "--quiet", "--entities", "off"]) == 0
    events = (EventStream().advance_watermark_to(T0)
              .add_elements([at(item, 10 + n) for n, item in enumerate(files)])
              .advance_watermark_to_infinity())
    run_files(events, stream_config(), stream, [(0, ON_TIME, ("alpha", "bravo"))],
              [("alpha-copy", "duplicates_in_run"), ("z-first", "duplicates_in_run")])
    assert written_sources(stream) == written_sources(batch) == ["a-second", "b"]


def test_copies_of_a_story_in_one_pane_share_a_story_id(tmp_path):
    story = STORY.format(place="Velmar") * 3
    bodies = {"wire": story, "copy": story + "\n\nReporting by the Velmar desk.", "other": "Bravo council approved "
              "the budget for the new library on Tuesday, after a long debate on its opening hours. " * 6}
    files = []
    for slug, text in bodies.items():
        path = tmp_path / f"{slug}.jsonl"
        path.write_text(json.dumps({"url": f"https://port.example/business/2024/05/14/{slug}", "text": text,
                                    "fetched_at": "2024-05-14T09:00:00Z"}) + "\n")
        files.append(InputFile(str(path), path.stat().st_size, path.stat().st_mtime))
    events = (EventStream().advance_watermark_to(T0)
              .add_elements([at(item, 10 + n) for n, item in enumerate(files)])
              .advance_watermark_to_infinity())
    output = tmp_path / "out"
    run_files(events, stream_config(), output, [(0, ON_TIME, ("copy", "other", "wire"))], [])
    found = dict(duckdb.sql(f"select regexp_extract(url, '[^/]+$'), story_id from read_parquet("
                            f"'{output}/date=*/section=*/*.parquet', hive_partitioning=true)").fetchall())
    assert found["wire"] == found["copy"] != found["other"]


def test_an_id_is_forgotten_ttl_after_it_was_last_seen(tmp_path):
    captures = [capture_file(tmp_path, f"alpha-{n}", "alpha") for n in range(4)]
    events = (EventStream()
              .advance_watermark_to(T0 + 0)
              .add_elements([at(captures[0], 10)])   # kept until 190
              .advance_watermark_to(T0 + 100)
              .add_elements([at(captures[1], 150)])  # a repeat: now kept until 330
              .advance_watermark_to(T0 + 200)
              .add_elements([at(captures[2], 250)])  # past 190, still a repeat: kept until 430
              .advance_watermark_to(T0 + 440)                           # 430 passed: the id is forgotten
              .add_elements([at(captures[3], 450)])
              .advance_watermark_to_infinity())
    panes = [(0, ON_TIME, ("alpha",)), (420, ON_TIME, ("alpha",))]
    duplicates = [("alpha-1", "duplicates_in_run"), ("alpha-2", "duplicates_in_run")]
    run_files(events, stream_config(), tmp_path / "out", panes, duplicates)


@pytest.mark.slow
def test_a_restarted_job_counts_articles_and_rejections_already_in_the_output(tmp_path):
    output = tmp_path / "out"
    article = capture_file(tmp_path, "a", "alpha")
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n")
    files = [article, InputFile(str(broken), broken.stat().st_size, broken.stat().st_mtime)]

    def events() -> EventStream:
        return EventStream().advance_watermark_to(T0 + 0).add_elements(
            [at(item, 5) for item in files]).advance_watermark_to_infinity()

    run_files(events(), stream_config(), output, [(0, ON_TIME, ("alpha",)), (0, ON_TIME, ("malformed_json",))], [])
    run_files(events(), stream_config(), output, [], [("a", "already_committed"), ("broken", "already_committed")])
    assert len(list(output.rglob("*.parquet"))) == 2


def run_messages(message: str, bodies: list[bytes], output: Path) -> tuple[dict, list]:
    """Messages through the Pub/Sub half of the graph; the articles (url: capture time source) and rejections."""
    cfg = stream_config(source="pubsub", subscription="projects/p/subscriptions/s", message=message)
    pipeline = streaming_pipeline()
    (pipeline
     | "Messages" >> EventStream().add_elements([at(body, 10) for body in bodies]).advance_watermark_to_infinity()
     | "Read" >> CapturesFromMessages(message, "pubsub://projects/p/subscriptions/s", cfg["read"])
     | "WriteStream" >> WriteStream(cfg, stream_settings(cfg), str(output), RUN_ID, "test"))
    pipeline.run().wait_until_finish()
    glob = f"{output}/date=*/section=*/*.parquet"
    articles = dict(duckdb.sql(f"select url, captured_at_source from read_parquet('{glob}')").fetchall())
    rejected = duckdb.sql(f"select reason, source_uri from read_parquet('{output}/_rejected/*.parquet')").fetchall()
    return articles, sorted(rejected)


def test_a_record_message_is_read_like_a_jsonl_line(tmp_path):
    record = {"url": "https://port.example/world/foxtrot", "text": STORY.format(place="Foxtrot")}
    articles, rejected = run_messages("record", [json.dumps(record).encode(), b"[1]"], tmp_path / "out")
    assert articles == {"https://port.example/world/foxtrot": "message_time"}  # no fetched_at: publish time
    assert [reason for reason, _ in rejected] == ["malformed_json"]
    assert rejected[0][1].startswith("pubsub://projects/p/subscriptions/s#sha256=")


def test_a_path_message_names_a_capture_file(tmp_path):
    named = capture_file(tmp_path, "g", "golf")
    bodies = [str(path).encode() for path in (named.path, tmp_path / "gone.html", tmp_path / "x.meta.json")]
    articles, rejected = run_messages("path", bodies, tmp_path / "out")
    assert articles == {"https://port.example/business/golf": "record"}
    assert rejected == [("missing_file", str(tmp_path / "gone.html"))]  # the sidecar path is ignored


def test_message_paths_come_from_the_body_or_a_storage_notification():
    assert message_path(b" gs://bucket/inbox/a.html\n") == "gs://bucket/inbox/a.html"
    notification = {"kind": "storage#object", "bucket": "news", "name": "inbox/2024/a.warc.gz", "size": "10"}
    assert message_path(json.dumps(notification).encode()) == "gs://news/inbox/2024/a.warc.gz"
    assert message_path(b'{"bucket": "news"}') is None
    assert message_path(b"\xff\xfe") is None
    assert message_path(b"a\nb") is None


def labels_and_inputs(pipeline: beam.Pipeline) -> dict[str, set[str]]:
    """Every transform's full label, with the labels of the transforms producing its inputs."""
    wiring: dict[str, set[str]] = {}

    class Visitor(beam.pipeline.PipelineVisitor):
        def visit_transform(self, node):
            wiring[node.full_label] = {pcoll.producer.full_label for pcoll in node.inputs if pcoll.producer}

    pipeline.visit(Visitor())
    return wiring


def reaches(wiring: dict[str, set[str]], start: str, end: str) -> bool:
    consumers: dict[str, set[str]] = {}
    for label, producers in wiring.items():
        for producer in producers:
            consumers.setdefault(producer, set()).add(label)
    seen, todo = set(), [label for label in wiring if label.startswith(start)]
    while todo:
        label = todo.pop()
        if label.startswith(end):
            return True
        if label not in seen:
            seen.add(label)
            todo.extend(consumers.get(label, ()))
    return False


@pytest.mark.parametrize("name", ["stream-flink", "stream-dataflow", "stream-kafka-flink"])
def test_the_engine_configs_build_an_unbounded_graph_into_the_same_sink(tmp_path, name):
    cfg = load_run_config(CONFIG_DIR / f"{name}.yaml")
    assert cfg["beam_options"]["streaming"] is True
    if cfg["stream"]["source"] == "watch":
        cfg["stream"]["watch"] = str(tmp_path / "inbox" / "**")
    pipeline = beam.Pipeline(runner="BundleBasedDirectRunner", options=PipelineOptions(streaming=True))
    written = build_streaming_pipeline(pipeline, cfg, str(tmp_path / "out"), RUN_ID, "test")

    source = {"watch": "WatchFiles/Match", "pubsub": "ReadPubSub", "kafka": "ReadKafka"}[cfg["stream"]["source"]]
    wiring = labels_and_inputs(pipeline)
    assert not written["articles"].is_bounded and not written["rejected"].is_bounded
    for step in ("WriteStream/CleanAndEnrich", "WriteStream/Deduplicate/ResolveInPane", "WriteStream/Window",
                 "WriteStream/AddEntities", "WriteStream/WritePartitions/Write"):
        assert reaches(wiring, source, step), step
    assert reaches(wiring, "WriteStream/Window", "WriteStream/AddEntities")
    assert reaches(wiring, source, "WriteStream/WriteRejected/Write")
    # duplicates are decided in panes of their own, before the written windows
    assert not reaches(wiring, "WriteStream/Window", "WriteStream/Deduplicate/ResolveInPane")
    assert DoFnSignature(ResolveInPane("articles", stream_settings(stream_config()))).is_stateful_dofn()
    assert pipeline.to_runner_api().components.transforms  # what an engine is sent: everything serialises


@pytest.mark.parametrize(("stream", "problem"), [
    ({"source": "rabbitmq"}, "source must be one of"),
    ({"source": "kafka", "topic": "captures"}, "needs `bootstrap_servers` and `topic`"),
    ({"source": "kafka", "bootstrap_servers": "k:9092", "topic": "t", "message": "blob"}, "message must be one of"),
    ({"window_seconds": 0}, "must be positive"),
    ({"watch": None}, "needs `watch`"),
    ({"source": "pubsub"}, "exactly one of `subscription` and `topic`"),
    ({"source": "pubsub", "topic": "projects/p/topics/t", "message": "blob"}, "message must be one of"),
    ({"windows": 60}, "unknown key(s) windows"),
])
def test_a_bad_stream_block_is_a_config_error(stream, problem):
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        stream_settings(stream_config(**stream))
