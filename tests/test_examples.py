"""The scheduler examples use the image docker-compose.yml builds and newsbeam's exit codes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from pipeline.cli.options import EXIT_LOCKED, EXIT_NOTHING_TO_DO

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def compose_image() -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["x-newsbeam"]["image"]


def test_kubernetes_cronjob_runs_the_compose_image_and_folds_nothing_to_do():
    manifest = yaml.safe_load((EXAMPLES / "k8s-cronjob.yaml").read_text())
    [container] = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == compose_image()
    assert f"$rc -eq {EXIT_NOTHING_TO_DO}" in container["args"][0]
    assert manifest["spec"]["concurrencyPolicy"] == "Forbid"


def test_crontab_and_airflow_dag_use_the_compose_image_and_exit_codes():
    crontab = (EXAMPLES / "crontab").read_text()
    assert compose_image() in crontab
    assert f"$rc -eq {EXIT_NOTHING_TO_DO}" in crontab and f"$rc -eq {EXIT_LOCKED}" in crontab
    dag = ast.parse((EXAMPLES / "airflow_dag.py").read_text())
    image = next(node.value.value for node in ast.walk(dag) if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", "") == "IMAGE")
    assert image == compose_image()
    skip_codes = [kw.value.value for node in ast.walk(dag) if isinstance(node, ast.Call)
                  for kw in node.keywords if kw.arg == "skip_on_exit_code"]
    assert skip_codes and set(skip_codes) == {EXIT_NOTHING_TO_DO}


def test_airflow_dag_imports_where_airflow_is_installed():
    pytest.importorskip("airflow", reason="Airflow is not a dependency; install it to load the DAG")
    namespace: dict = {}
    exec(compile((EXAMPLES / "airflow_dag.py").read_text(), "airflow_dag.py", "exec"), namespace)
    assert namespace["dag"].dag_id == "newsbeam_hourly"
