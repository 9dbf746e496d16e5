"""The same graph through Beam's portable path and with several local workers gives the same output.

LOOPBACK runs our DoFns in the submitting process over the Fn API; the subprocess environment runs
them in a separate SDK worker process (what a Flink or Spark worker does), so state that only exists
in the submitting process, or that does not survive pickling, would show up as a difference here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from apache_beam.metrics import monitoring_infos
from apache_beam.portability.api import beam_job_api_pb2
from apache_beam.runners.portability.portable_runner import PortableMetrics

from pipeline.cli import main
from pipeline.output.summary import counters

FIXTURES = Path(__file__).parent / "fixtures"
SEED_MTIME = datetime(2022, 7, 9, 15, 0, tzinfo=UTC).timestamp()
RUN_FIELDS = {"run_id", "rejected_at"}  # differ between any two runs by design
SUMMARY_FIGURES = ("files_read", "captures_read", "articles_written", "duplicates_in_run", "rejected",
                   "rejected_by_reason", "partitions", "furniture_removed", "entities")
LOOPBACK = ("--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK")
SUBPROCESS_WORKER = ("--runner=PortableRunner", "--job_endpoint=embed",
                     "--environment_type=beam:env:harness_subprocess_python:v1",
                     f"--environment_config={sys.executable} -m apache_beam.runners.worker.sdk_worker_main")


def write_captures(folder: Path, *names: str) -> Path:
    """Copies of the fixtures (the seed-shaped text with a fixed mtime, so its capture day is stable)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / name, folder / name)
    os.utime(folder / "seed_shaped.txt", (SEED_MTIME, SEED_MTIME))
    (folder / "empty.txt").write_bytes(b"")  # one rejection, so dead letters are compared too
    return folder


def run(captures: Path, output: Path, *extra: str) -> int:
    return main(["run", "--input", str(captures), "--output", str(output), "--quiet", *extra])


def data_files(output: Path) -> list[Path]:
    return sorted([*output.glob("date=*/section=*/*.parquet"), *output.glob("_rejected/*.parquet")])


def table_rows(output: Path, pattern: str) -> list[dict]:
    """Every row of the files matching ``pattern``, without run-specific fields, in a stable order."""
    found = []
    for path in output.glob(pattern):
        partition = str(path.parent.relative_to(output))
        for row in pq.read_table(path).to_pylist():
            found.append({"_partition": partition, **{k: v for k, v in row.items() if k not in RUN_FIELDS}})
    return sorted(found, key=lambda row: json.dumps(row, sort_keys=True, default=str))


def outcome(output: Path) -> dict:
    """What a run produced: article and dead-letter rows, files per partition, and its summary's figures."""
    [summary_path] = (output / "_runs").glob("*.json")
    summary = json.loads(summary_path.read_text())
    files_per_partition: dict[str, int] = {}
    for path in data_files(output):
        key = str(path.parent.relative_to(output))
        files_per_partition[key] = files_per_partition.get(key, 0) + 1
    return {
        "articles": table_rows(output, "date=*/section=*/*.parquet"),
        "rejected": table_rows(output, "_rejected/*.parquet"),
        "files_per_partition": files_per_partition,
        "summary": {figure: summary[figure] for figure in SUMMARY_FIGURES},
    }


@pytest.fixture(scope="module")
def captures(tmp_path_factory) -> Path:
    return write_captures(tmp_path_factory.mktemp("captures"), "seed_shaped.txt", "chip-plant.html", "sequia.html")


@pytest.fixture(scope="module")
def baseline(captures, tmp_path_factory) -> dict:
    """The default engine (FnApiRunner, one worker)."""
    output = tmp_path_factory.mktemp("fnapi")
    assert run(captures, output) == 0
    return outcome(output)


@pytest.mark.slow
def test_baseline_holds_every_fixture(baseline):
    assert len(baseline["articles"]) == 3 and len(baseline["rejected"]) == 1
    assert baseline["summary"]["captures_read"] == 4 and baseline["summary"]["entities"] > 0
    assert sum(baseline["files_per_partition"].values()) == 4


@pytest.mark.slow
@pytest.mark.parametrize("environment", [LOOPBACK, SUBPROCESS_WORKER], ids=["loopback", "subprocess_worker"])
def test_portable_runner_writes_the_same_rows_and_reports_the_same_counters(captures, baseline, tmp_path,
                                                                            environment):
    assert run(captures, tmp_path / "out", *environment) == 0
    assert outcome(tmp_path / "out") == baseline


@pytest.mark.slow
def test_two_workers_write_the_same_rows_in_the_same_files(captures, baseline, tmp_path):
    assert run(captures, tmp_path / "out", "--workers", "2") == 0
    assert outcome(tmp_path / "out") == baseline


@pytest.mark.slow
def test_two_workers_are_quiet_under_quiet(captures, tmp_path, capfd):
    """The worker processes write to the same stderr: Beam's worker narrates its start and stop at INFO."""
    assert run(captures, tmp_path / "out", "--workers", "2") == 0
    assert capfd.readouterr().err == ""


@pytest.mark.slow
def test_rerun_with_another_worker_count_adds_only_the_new_capture_file(tmp_path):
    captures, output = tmp_path / "in", tmp_path / "out"
    write_captures(captures, "seed_shaped.txt", "chip-plant.html")
    assert run(captures, output, "--workers", "1") == 0
    before = {path: path.stat().st_mtime_ns for path in data_files(output)}
    articles_before = table_rows(output, "date=*/section=*/*.parquet")

    shutil.copy(FIXTURES / "sequia.html", captures / "sequia.html")
    assert run(captures, output, "--workers", "2") == 0
    after = data_files(output)
    assert {path: path.stat().st_mtime_ns for path in after if path in before} == before
    [new_file] = [path for path in after if path not in before]
    assert new_file.parent.name == "section=world"  # its "Internacional" label names the world desk
    articles_after = table_rows(output, "date=*/section=*/*.parquet")
    [new_row] = [row for row in articles_after if row not in articles_before]
    assert len(articles_after) == len(articles_before) + 1
    assert pq.read_table(new_file).column("article_id").to_pylist() == [new_row["article_id"]]
    assert not [path for path in output.rglob("*") if path.is_file() and path.name.startswith(".")]


class FinishedJob:
    """A finished job as the portable runner sees it: only its metrics, as a job server sent them."""

    def __init__(self, response: beam_job_api_pb2.GetJobMetricsResponse):
        self.response = response

    def metrics(self) -> PortableMetrics:
        return PortableMetrics(self.response)


def test_counters_a_job_server_reports_only_as_attempted_still_count():
    # Beam's Flink and Spark job servers fill only `attempted` (FlinkPortableRunnerResult.portableMetrics).
    attempted = [monitoring_infos.int64_user_counter("newsbeam", "captures_read", 7, ptransform="Read"),
                 monitoring_infos.int64_user_counter("newsbeam", "captures_read", 5, ptransform="Read2"),
                 monitoring_infos.int64_user_counter("other", "captures_read", 100, ptransform="Read")]
    response = beam_job_api_pb2.GetJobMetricsResponse(
        metrics=beam_job_api_pb2.MetricResults(attempted=attempted))
    assert counters(FinishedJob(response)) == {"captures_read": 12}
