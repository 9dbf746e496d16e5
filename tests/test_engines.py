"""newsbeam on the local engines of ``make engines-up``: a Flink cluster, a Spark cluster and a Kafka broker.

Marked ``engines``: ``make test`` leaves them out, ``make test-engines`` runs them (``.ci/run`` brings the
engines up first). A run on Flink or Spark needs Beam's job-server jar, which ``make engines`` fetches
through Maven; where the registry does not serve it, the run is skipped with the reason ``make engines``
recorded, never faked with another runner.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from pipeline.output.schema import ARTICLE_GLOB, REJECTED_GLOB

pytestmark = pytest.mark.engines

REPO = Path(__file__).resolve().parent.parent
ENGINES = REPO / ".engines"
SAMPLES = REPO / "samples"
PRISM = ENGINES / "bin" / "prism"
BOOTSTRAP = "127.0.0.1:9092"
# Summary figures that must not depend on the engine (timings, ids and paths do).
SUMMARY_COUNTS = ("files_read", "captures_read", "articles_written", "duplicates_in_run", "already_committed",
                  "rejected", "rejected_by_reason", "partitions")


def fresh_topic(purpose: str) -> str:
    """A topic (and consumer group) no earlier run used: the broker keeps its data across restarts."""
    return f"{purpose}-{uuid.uuid4().hex[:12]}"


def answer(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)
    except OSError as error:
        pytest.fail(f"{url} does not answer ({error}): run `make engines-up` first")


def rows(output: Path, glob: str) -> list[tuple]:
    """Every row of the output's files matching ``glob``, but ``run_id``, sorted: the run's row set."""
    files = sorted(output.glob(glob))
    if not files:
        return []
    query = f"SELECT * EXCLUDE (run_id) FROM read_parquet({[str(f) for f in files]}, hive_partitioning = true)"
    return sorted(duckdb.sql(query).fetchall(), key=repr)


def summary_counts(output: Path) -> dict:
    [path] = (output / "_runs").glob("*.json")
    summary = json.loads(path.read_text())
    return {name: summary[name] for name in SUMMARY_COUNTS}


@pytest.fixture(scope="module")
def sample_captures() -> Path:
    subprocess.run([sys.executable, str(SAMPLES / "build_samples.py")], check=True, capture_output=True)
    return SAMPLES / "captures"


@pytest.fixture(scope="module")
def default_output(sample_captures, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("default")
    assert main(["run", "--input", str(sample_captures), "--output", str(output), "--quiet"]) in (0, 4)
    return output


def test_flink_cluster_has_one_taskmanager_with_two_slots():
    overview = answer("http://127.0.0.1:8081/overview")
    assert (overview["taskmanagers"], overview["slots-total"]) == (1, 2)
    versions = dict(line.split("=", 1) for line in (REPO / "engines" / "versions.env").read_text().splitlines()
                    if line and not line.startswith("#"))
    assert overview["flink-version"] == versions["FLINK_VERSION"]


def test_spark_master_has_one_worker_with_two_cores():
    master = answer("http://127.0.0.1:8080/json/")
    assert (master["status"], master["aliveworkers"], master["cores"]) == ("ALIVE", 1, 2)


def test_sample_producer_records_come_back_from_the_broker(sample_captures):
    from confluent_kafka import Consumer, TopicPartition

    topic = fresh_topic("produce")
    sent = [line for line in (sample_captures / "feed.jsonl").read_bytes().splitlines() if line.strip()]
    done = subprocess.run([sys.executable, "-m", "samples.produce", "--topic", topic], cwd=REPO, check=True,
                          capture_output=True, text=True)
    assert done.stdout.strip() == f"sent {len(sent)} records to {topic} on {BOOTSTRAP}"
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": topic, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        received = []
        while len(received) < len(sent):
            message = consumer.poll(30)
            assert message is not None, f"only {len(received)} of {len(sent)} records came back"
            received.append(message.value())
    finally:
        consumer.close()
    assert sorted(received) == sorted(sent)


def test_a_new_job_starts_each_partition_at_the_groups_committed_offset():
    """What a restarted Kafka stream resumes from: committed offsets, else each partition's start."""
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to
    from confluent_kafka import Consumer, TopicPartition

    from pipeline.graph.kafka_source import PartitionStarts
    from samples.produce import produce

    topic = group = fresh_topic("starts")
    assert produce(topic, [b"{}"] * 4, BOOTSTRAP) == 4

    def assert_starts(expected: list[tuple[str, int, int]]) -> None:
        with beam.Pipeline(runner="FnApiRunner") as pipeline:
            starts = pipeline | beam.Create([topic]) | beam.ParDo(PartitionStarts(BOOTSTRAP, group))
            assert_that(starts, equal_to(expected))

    assert_starts([(topic, 0, 0), (topic, 1, 0)])
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, 1, 1)], asynchronous=False)
    finally:
        consumer.close()
    assert_starts([(topic, 0, 0), (topic, 1, 1)])


@pytest.mark.parametrize("engine, jar", [("flink", "beam-runners-flink-1.20-job-server"),
                                         ("spark", "beam-runners-spark-3-job-server")])
def test_cluster_run_gives_the_default_runners_rows(engine, jar, sample_captures, default_output, tmp_path,
                                                    monkeypatch):
    """Same articles (every column but run_id), same dead letters, same summary counts as the local engine."""
    missing = ENGINES / "jars" / f"{jar}.missing"
    if missing.exists():
        pytest.skip(missing.read_text().strip())
    monkeypatch.chdir(REPO)  # the configs name the jar relative to the checkout
    output = tmp_path / engine
    code = main(["run", "--config", f"configs/{engine}-local.yaml", "--input", str(sample_captures),
                 "--output", str(output), "--quiet"])
    assert code in (0, 4)
    assert rows(output, ARTICLE_GLOB) == rows(default_output, ARTICLE_GLOB) != []
    assert rows(output, REJECTED_GLOB) == rows(default_output, REJECTED_GLOB) != []
    assert summary_counts(output) == summary_counts(default_output)


def test_second_engines_up_starts_nothing():
    """A second `engines-up` finds every process alive and starts none."""
    before = {path.name: path.read_text() for path in (ENGINES / "run").glob("*.pid")}
    done = subprocess.run(["bash", "engines/up.sh"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "started" not in done.stdout
    assert {path.name: path.read_text() for path in (ENGINES / "run").glob("*.pid")} == before
    assert len(before) == 5


# --------------------------------------------------------------------------------------------------
# The Kafka stream (configs/stream-kafka-flink.yaml) on Prism, Beam's portable runner: the same job API,
# Fn API, splittable DoFn and bundle finalization the Flink job server would use.

WINDOW_SECONDS = 10
STORY = ("Harbour officials in {place} said on Monday that the new ferry terminal would open next spring, "
         "after two years of delays.\n\nThe terminal will handle four ferries an hour at peak times, "
         "the port authority said in a statement.")


def record(slug: str) -> bytes:
    """One JSONL capture record of a story at ``https://port.example/business/<slug>`` (its article_id)."""
    return json.dumps({"url": f"https://port.example/business/{slug}", "text": STORY.format(place=slug.title()),
                       "fetched_at": "2024-05-14T09:00:00Z", "published_at": "2024-05-14T08:00:00Z",
                       "section": "business"}).encode()


def start_stream(config: Path, output: Path, log: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "pipeline.cli", "stream", "--engine", "--config", str(config),
               "--output", str(output), "--runner", "PrismRunner", f"--prism_location={PRISM}", *extra]
    with log.open("a") as sink:
        return subprocess.Popen(command, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT)


def stop_stream(job: subprocess.Popen) -> None:
    """Cancel the job as a user does (Ctrl-C): the submitter stops Prism and its workers."""
    job.send_signal(signal.SIGINT)
    try:
        job.wait(60)
    except subprocess.TimeoutExpired:
        job.kill()
        job.wait()


def wait_until(ready, what: str, job: subprocess.Popen, log: Path) -> float:
    """Seconds until ``ready()`` holds (the job writes its rows as atomic files, commits offsets to Kafka)."""
    clock = time.monotonic()
    while not ready():
        assert job.poll() is None, f"the stream job exited with {job.returncode}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < clock + 300, f"no {what} after 300 s:\n{log.read_text()[-3000:]}"
        time.sleep(0.5)
    return time.monotonic() - clock


def committed(topic: str, group: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group, "enable.auto.commit": False})
    try:
        return sum(max(p.offset, 0) for p in consumer.committed(
            [TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=30))
    finally:
        consumer.close()


@pytest.fixture
def prism() -> Path:
    if not PRISM.exists():
        pytest.skip("no Prism binary: `make engines` builds it with Go")
    return PRISM


def test_kafka_stream_survives_a_restart_without_losing_or_doubling_records(prism, tmp_path):
    from samples.produce import produce

    topic = group = fresh_topic("stream")
    config = tmp_path / "stream.yaml"
    config.write_text(f"extends: {REPO / 'configs' / 'stream-kafka-flink.yaml'}\n"
                      "entities: {enabled: false}\n"
                      f"stream: {{topic: {topic}, group: {group}, window_seconds: {WINDOW_SECONDS}}}\n")
    output, log = tmp_path / "out", tmp_path / "stream.log"
    produce(topic, [record("alpha"), record("beta"), b"this is not a capture record"], BOOTSTRAP)

    def articles(count: int):
        return lambda: len(rows(output, ARTICLE_GLOB)) >= count

    def read_and_committed(count: int):
        return lambda: committed(topic, group) >= count

    job = start_stream(config, output, log)
    try:
        wait_until(articles(2), "2 articles", job, log)
        wait_until(lambda: len(rows(output, REJECTED_GLOB)) >= 1, "dead letter", job, log)
        produce(topic, [record("gamma")], BOOTSTRAP)  # while the job runs
        latency = wait_until(articles(3), "3rd article", job, log)
        assert latency <= 2 * WINDOW_SECONDS, f"a record produced while running took {latency:.1f} s"
        wait_until(read_and_committed(4), "offsets committed", job, log)
    finally:
        stop_stream(job)

    produce(topic, [record("delta"), record("alpha")], BOOTSTRAP)  # a new record and a repeat, while stopped
    job = start_stream(config, output, log)
    try:
        wait_until(articles(4), "4th article", job, log)
        wait_until(read_and_committed(6), "the repeat read", job, log)
        # A later record's window closes after the repeat's: once it is written, so would the repeat be.
        produce(topic, [record("epsilon")], BOOTSTRAP)
        wait_until(articles(5), "5th article", job, log)
    finally:
        stop_stream(job)

    ids = duckdb.sql(f"SELECT url FROM read_parquet('{output}/{ARTICLE_GLOB}')").fetchall()
    assert sorted(url for (url,) in ids) == [f"https://port.example/business/{slug}"
                                             for slug in ("alpha", "beta", "delta", "epsilon", "gamma")]
    [(reason,)] = duckdb.sql(f"SELECT reason FROM read_parquet('{output}/{REJECTED_GLOB}')").fetchall()
    assert reason == "malformed_json"


def test_file_watch_stream_writes_files_dropped_while_it_runs(prism, tmp_path):
    """configs/stream-flink.yaml's graph (file watch), with the SDK workers in the submitting process."""
    config, inbox, output, log = tmp_path / "watch.yaml", tmp_path / "inbox", tmp_path / "out", tmp_path / "w.log"
    config.write_text(f"extends: {REPO / 'configs' / 'stream-flink.yaml'}\n"
                      "entities: {enabled: false}\n"
                      f"stream: {{poll_seconds: 2, window_seconds: {WINDOW_SECONDS}}}\n"
                      "beam_options: {environment_type: LOOPBACK, environment_config: null, job_endpoint: null,"
                      " artifact_endpoint: null}\n")
    inbox.mkdir()
    (inbox / "alpha.jsonl").write_bytes(record("alpha") + b"\n")
    job = start_stream(config, output, log, "--watch", str(inbox))
    try:
        wait_until(lambda: len(rows(output, ARTICLE_GLOB)) >= 1, "article of the first file", job, log)
        (inbox / ".beta.jsonl").write_bytes(record("beta") + b"\n")
        (inbox / ".beta.jsonl").rename(inbox / "beta.jsonl")  # the drop convention: write, then rename
        wait_until(lambda: len(rows(output, ARTICLE_GLOB)) >= 2, "article of the dropped file", job, log)
    finally:
        stop_stream(job)
    urls = duckdb.sql(f"SELECT url FROM read_parquet('{output}/{ARTICLE_GLOB}')").fetchall()
    assert sorted(url for (url,) in urls) == ["https://port.example/business/alpha",
                                              "https://port.example/business/beta"]
