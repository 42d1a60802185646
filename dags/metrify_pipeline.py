"""metrify_pipeline.py - an Airflow 2 DAG that runs Metrify's batch pipeline with the CLI:
ingest (readings, grid status, weather from an inbox) -> quality (report, fails the run on a
store problem) -> transform (analytics tables) -> export (incremental Parquet lake, S3 or a
directory). Every step is an idempotent `metrify` command, so a retried task is safe: ingest
treats re-delivered records as duplicates, the export only writes what changed since its
watermark. `metrify worker process` runs the same chain from a config file without Airflow.

Configuration (Airflow Variables, else the environment of the worker, else the defaults below):
  metrify_bin        path of the metrify binary                     (default: metrify on PATH)
  metrify_db         the store: a SQLite path or postgresql://...    (default: /var/lib/metrify/metrify.db)
  metrify_inbox      directory with readings/, grid/, weather/ files (default: /var/lib/metrify/inbox)
  metrify_lake       export target: DIR or s3://bucket/prefix        (default: /var/lib/metrify/lake)
  metrify_s3_endpoint  S3-compatible endpoint (MinIO ...), optional
  metrify_dbt_project  the dbt project directory                  (default: /opt/metrify/dbt)
S3 credentials come from the usual AWS variables or ~/.aws/credentials of the worker.
"""
import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models import Variable
from airflow.operators.bash import BashOperator


def setting(name, default):
    """An Airflow Variable, else the worker's environment (upper case), else the default."""
    return Variable.get(name, default_var=os.environ.get(name.upper(), default))


METRIFY = setting("metrify_bin", "metrify")
DB = setting("metrify_db", "/var/lib/metrify/metrify.db")
INBOX = setting("metrify_inbox", "/var/lib/metrify/inbox")
LAKE = setting("metrify_lake", "/var/lib/metrify/lake")
S3_ENDPOINT = setting("metrify_s3_endpoint", "")
DBT = setting("metrify_dbt_project", "/opt/metrify/dbt")

M = f'"{METRIFY}" --db "{DB}" --quiet'

# Ingest every file of one kind in the inbox, then move it to done/ so a rerun does not see it
# again (re-ingesting would be harmless: duplicates are recognised, but it costs time).
INGEST = """
set -euo pipefail
shopt -s nullglob
for kind in readings grid weather; do
  files=("{inbox}/$kind"/*)
  [ ${{#files[@]}} -eq 0 ] && continue
  mkdir -p "{inbox}/done/$kind"
  rc=0
  {m} ingest "$kind" "${{files[@]}}" || rc=$?
  # exit 1 = some records were quarantined: the good ones are stored, the run goes on
  [ $rc -le 1 ] || exit $rc
  mv "${{files[@]}}" "{inbox}/done/$kind/"
done
"""

default_args = {
    "owner": "metrify",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
}

with DAG(
    dag_id="metrify_pipeline",
    description="Metrify: ingest -> quality -> transform -> export (Parquet lake)",
    default_args=default_args,
    start_date=datetime(2026, 1, 1),
    schedule="@hourly",
    catchup=False,
    max_active_runs=1,  # the steps share one store and one lake watermark
    tags=["metrify", "smart-meter"],
) as dag:
    ingest = BashOperator(
        task_id="ingest",
        bash_command=INGEST.format(inbox=INBOX, m=M),
    )
    # the data-quality report of the fleet; `maintenance check` fails the run on a store problem
    quality = BashOperator(
        task_id="quality",
        bash_command=f"{M} maintenance check && {M} quality --json",
        do_xcom_push=True,
    )
    # the dbt models of dbt/ (--project when the DAG runs outside the source tree)
    transform = BashOperator(
        task_id="transform",
        bash_command=f'{M} transform run --project "{DBT}" && {M} transform test --project "{DBT}"',
    )
    s3_flag = f' --s3-endpoint "{S3_ENDPOINT}"' if S3_ENDPOINT else ""
    export = BashOperator(
        task_id="export",
        bash_command=f'{M} export lake --to "{LAKE}"{s3_flag} --json',
        do_xcom_push=True,
    )

    ingest >> quality >> transform >> export
