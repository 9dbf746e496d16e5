"""newsbeam as an hourly Airflow task (Airflow 2.x). Importable only where Airflow is installed.

A BashOperator marks the task *skipped* when the command exits with ``skip_on_exit_code`` (99 by
default), which is newsbeam's "nothing to do" code. Exit 75 (another run holds the lock) is retried.
The task runs the same image as docker-compose.yml through ``docker run``; swap in a
KubernetesPodOperator with the same image and arguments on Kubernetes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

IMAGE = "newsbeam:0.1.0"
COMMAND = (
    f"docker run --rm -v /data:/data --entrypoint newsbeam {IMAGE} run "
    "--input '/data/captures/**' --output /data/out --quiet"
)

with DAG(
    dag_id="newsbeam_hourly",
    start_date=datetime(2024, 1, 1),
    schedule="5 * * * *",
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=5)},
    tags=["newsbeam"],
) as dag:
    BashOperator(task_id="newsbeam_run", bash_command=COMMAND, skip_on_exit_code=99)

    BashOperator(
        task_id="newsbeam_backfill_template",
        # Triggered by hand with conf {"since": "...", "until": "..."} after a rule change.
        bash_command=COMMAND + " --reprocess --since '{{ dag_run.conf.get(\"since\", ds) }}'"
                               " --until '{{ dag_run.conf.get(\"until\", next_ds) }}' --wait",
        skip_on_exit_code=99,
        trigger_rule="all_done",
    )
