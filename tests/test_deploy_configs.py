"""Cluster run configs become the Beam options each runner reads; the container files pin what pyproject pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import apache_beam as beam
import pytest
import yaml
from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions,
    GoogleCloudOptions,
    PortableOptions,
    SetupOptions,
    StandardOptions,
    WorkerOptions,
)
from apache_beam.options.pipeline_options_validator import PipelineOptionsValidator
from apache_beam.runners.runner import create_runner

from pipeline.cli import build_parser, main
from pipeline.cli.options import beam_options
from pipeline.config import ConfigError, load_run_config

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
BEAM_VERSION = next(re.fullmatch(r"apache-beam==(\S+)", d.split("#")[0].strip()).group(1)
                    for d in PYPROJECT["project"]["dependencies"] if d.startswith("apache-beam=="))
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
ENGINE_VERSIONS = dict(line.split("=", 1) for line in (REPO / "engines" / "versions.env").read_text().splitlines()
                       if line and not line.startswith("#"))


def options_for(*argv: str):
    """Beam options exactly as ``newsbeam run ARGV`` would build them."""
    args, beam_args = build_parser().parse_known_args(["run", "--input", "in", "--output", "out", *argv])
    return beam_options(args, beam_args)


def beam_errors(options) -> list[str]:
    """What Beam's own validator (run by ``beam.Pipeline``) finds wrong, for the runner the options name."""
    return PipelineOptionsValidator(options, create_runner(options.view_as(StandardOptions).runner)).validate()


def test_cluster_configs_share_the_local_rules():
    """Same rules as local runs; only the Beam options and the one-pipeline-per-run setting differ."""
    local = load_run_config(CONFIGS / "local.yaml")
    own = {"beam_options", "run"}
    for name in ("flink", "spark", "dataflow"):
        cluster = load_run_config(CONFIGS / f"{name}.yaml")
        assert cluster["beam_options"], name
        assert cluster["run"] == {**local["run"], "files_per_pipeline": 0, "captures_per_pipeline": 0}, name
        assert {k: v for k, v in cluster.items() if k not in own} == {k: v for k, v in local.items() if k not in own}


def test_flink_config_lands_in_portable_and_flink_options():
    options = options_for("--config", str(CONFIGS / "flink.yaml"))
    portable = options.view_as(PortableOptions)
    assert options.view_as(StandardOptions).runner == "PortableRunner"
    assert (portable.job_endpoint, portable.artifact_endpoint) == ("localhost:8099", "localhost:8098")
    assert (portable.environment_type, portable.environment_config) == ("EXTERNAL", "localhost:50000")
    assert int(portable.sdk_worker_parallelism) == 2
    assert options.view_as(FlinkRunnerOptions).parallelism == 2
    assert beam_errors(options) == []


def test_spark_config_lands_in_portable_options():
    options = options_for("--config", str(CONFIGS / "spark.yaml"))
    portable = options.view_as(PortableOptions)
    assert options.view_as(StandardOptions).runner == "PortableRunner"
    assert (portable.job_endpoint, portable.environment_type, portable.environment_config) == (
        "localhost:8099", "EXTERNAL", "localhost:50000")
    assert beam_errors(options) == []


def test_local_engine_configs_name_the_jars_make_engines_fetches():
    """The job-server jars of pyproject's Beam and of the Flink minor the local cluster runs."""
    minor = ENGINE_VERSIONS["FLINK_VERSION"].rsplit(".", 1)[0]
    flink = options_for("--config", str(CONFIGS / "flink-local.yaml")).get_all_options()
    assert (flink["runner"], flink["flink_master"], flink["flink_version"]) == ("FlinkRunner", "localhost:8081", minor)
    assert flink["flink_job_server_jar"] == f".engines/jars/beam-runners-flink-{minor}-job-server-{BEAM_VERSION}.jar"
    spark = options_for("--config", str(CONFIGS / "spark-local.yaml")).get_all_options()
    assert (spark["runner"], spark["spark_master_url"]) == ("SparkRunner", "spark://127.0.0.1:7077")
    assert spark["spark_job_server_jar"] == f".engines/jars/beam-runners-spark-3-job-server-{BEAM_VERSION}.jar"
    for options in (flink, spark):
        assert options["environment_type"] == "LOOPBACK"


def test_dataflow_config_lands_in_google_cloud_worker_and_setup_options():
    options = options_for("--config", str(CONFIGS / "dataflow.yaml"), "--dry_run=True")  # no GCS calls
    cloud, worker = options.view_as(GoogleCloudOptions), options.view_as(WorkerOptions)
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    assert (cloud.project, cloud.region) == ("your-gcp-project", "europe-west1")
    assert cloud.temp_location.startswith("gs://") and cloud.staging_location.startswith("gs://")
    assert worker.sdk_container_image.endswith(f"/newsbeam:{PYPROJECT['project']['version']}")
    assert (worker.max_num_workers, worker.machine_type) == (10, "n2-standard-2")
    assert options.view_as(SetupOptions).sdk_location == "container"
    assert beam_errors(options) == []
    beam.Pipeline(options=options)  # the DataflowRunner's own construction-time checks


def test_command_line_wins_over_the_config():
    options = options_for("--config", str(CONFIGS / "flink.yaml"), "--runner", "FnApiRunner",
                          "--job_endpoint=embed", "--environment_type=LOOPBACK")
    portable = options.view_as(PortableOptions)
    assert options.view_as(StandardOptions).runner == "FnApiRunner"
    assert (portable.job_endpoint, portable.environment_type) == ("embed", "LOOPBACK")
    assert portable.artifact_endpoint == "localhost:8098"  # not on the command line: the config's


def test_without_config_options_the_local_engine_runs():
    assert options_for().view_as(StandardOptions).runner == "FnApiRunner"
    assert options_for("--workers", "2").get_all_options()["direct_num_workers"] == 2


def test_extending_config_merges_options_and_resolves_its_own_rule_files(tmp_path):
    (tmp_path / "my_sections.yaml").write_text((CONFIGS / "sections.yaml").read_text())
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"extends: {CONFIGS / 'flink.yaml'}\nsections: my_sections.yaml\n"
                    "language: {min_letters: 99}\n"
                    "beam_options: {parallelism: 4, artifact_endpoint: null}\n")
    cfg = load_run_config(mine)
    assert cfg["language"]["min_letters"] == 99
    assert cfg["language"]["seed"] == load_run_config()["language"]["seed"]  # nested keys merge
    assert cfg["beam_options"]["parallelism"] == 4 and "artifact_endpoint" not in cfg["beam_options"]
    assert cfg["beam_options"]["runner"] == "PortableRunner"
    assert cfg["read"] == yaml.safe_load((CONFIGS / "read.yaml").read_text())  # named by local.yaml, beside it
    options = options_for("--config", str(mine))
    assert options.view_as(FlinkRunnerOptions).parallelism == 4
    assert options.view_as(PortableOptions).artifact_endpoint is None


@pytest.mark.parametrize("text, problem", [
    ("extends: {local}\nbeam_options: {{job_endpont: 'localhost:8099'}}", "unknown beam option(s): job_endpont"),
    ("extends: {local}\nbeam_options: {{streaming: false}}", "false has no flag"),
    ("extends: {local}\nbeam_options: [runner, PortableRunner]", "must be a mapping"),
    ("extends: bad.yaml", "loops back"),
])
def test_bad_config_is_refused_with_its_reason(tmp_path, text, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text.format(local=CONFIGS / "local.yaml"))
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load_run_config(path)
    assert main(["run", "--input", str(tmp_path), "--output", str(tmp_path / "out"), "--config", str(path),
                 "--quiet"]) == 2


def test_dockerfile_builds_on_the_pinned_beam_sdk_image():
    dockerfile = (REPO / "Dockerfile").read_text()
    python = re.fullmatch(r">=(\d+\.\d+),<.*", PYPROJECT["project"]["requires-python"]).group(1)
    assert re.findall(r"^FROM\s+(\S+)", dockerfile, re.M) == [f"apache/beam_python{python}_sdk:{BEAM_VERSION}"]
    # The build fails if installing newsbeam replaced the image's Beam (the workers' boot expects it).
    assert f"apache_beam.__version__ == '{BEAM_VERSION}'" in dockerfile
    copied = {part for line in re.findall(r"^COPY\s+(.+)$", dockerfile, re.M) for part in line.split()[:-1]}
    top_level = {package.split(".")[0] for package in PYPROJECT["tool"]["setuptools"]["packages"]}
    needed = {*top_level, "configs", "pyproject.toml", PYPROJECT["project"]["readme"]}
    assert needed <= copied
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert not needed & ignored
    # Workers import pyarrow before newsbeam can choose Arrow's pool (pipeline/__init__.py): the image does.
    assert re.search(r"^ENV\s(?:[^\n]*\\\n)*[^\n]*\bARROW_DEFAULT_MEMORY_POOL=system\b", dockerfile, re.M)


def test_compose_images_are_pinned_and_agree_with_pyproject():
    images = {name: service["image"] for name, service in COMPOSE["services"].items()}
    for name, image in images.items():
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"), name
    flink_versions = {image.split(":")[1].split("-")[0] for image in images.values() if image.startswith("flink:")}
    [flink] = flink_versions
    [job_server] = [image for image in images.values() if "_job_server:" in image]
    minor = ".".join(flink.split(".")[:2])
    assert job_server == f"apache/beam_flink{minor}_job_server:{BEAM_VERSION}"
    assert minor in FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    assert flink == ENGINE_VERSIONS["FLINK_VERSION"]  # the Flink that `make test-engines` runs on
    built = {image for name, image in images.items() if "build" in COMPOSE["services"][name]}
    assert built == {f"newsbeam:{PYPROJECT['project']['version']}"}


@pytest.mark.parametrize("name, command", [("newsbeam", "run"), ("stream", "stream")])
def test_compose_jobs_reach_the_worker_pool_through_the_job_server(monkeypatch, name, command):
    service = COMPOSE["services"][name]
    assert service["entrypoint"] == ["newsbeam"]
    monkeypatch.chdir(REPO)  # the image's working_dir holds the same tree
    args, beam_args = build_parser().parse_known_args(service["command"])
    assert (args.command, args.output) == (command, "./out")
    options = beam_options(args, beam_args)
    portable = options.view_as(PortableOptions)
    assert options.view_as(StandardOptions).runner == "PortableRunner"
    assert (portable.job_endpoint, portable.artifact_endpoint) == ("jobserver:8099", "jobserver:8098")
    assert portable.environment_type == "EXTERNAL"
    # The SDK container's --worker_pool port, reached over the taskmanager's own network.
    assert portable.environment_config == "localhost:50000"
    assert COMPOSE["services"]["worker-pool"]["network_mode"] == "service:taskmanager"
    assert COMPOSE["services"]["worker-pool"]["command"] == ["--worker_pool"]
