"""
### land_raw: land every source into the raw zone

For the run's day *D* (`ZHONGTAI_AS_OF` when set, else the day of the logical date), each
task lands the files delivered under `inbox/D/<source>/` into the immutable raw zone
(`raw/<source>/ingest_date=D/...`):

1. each file is checked against its **data contract** (declared fields, types, no
   prohibited categories such as contacts, SMS, photos, audio or location history);
2. national ID, phone, name and address become keyed **HMAC pseudonyms**; clear values
   that must be kept go only to the **encrypted vault**;
3. the batch is written as Parquet with a **manifest** (rows, checksums, schema version).

A refused file goes to `quarantine/` (encrypted, with a `reason.json`) and the task fails
naming file, row and field. Rerunning a date writes nothing new. Each task emits the
`raw_<source>` asset that the warehouse is scheduled on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from airflow.sdk import dag, task

from zhongtai.assets import raw_asset
from zhongtai.clock import run_settings
from zhongtai.landing.contracts import declared_sources

log = logging.getLogger(__name__)


def _log_file(path: object) -> None:
    log.info("landing %s", path)


def land_task(source: str):
    @task(task_id=f"land_{source}", outlets=[raw_asset(source)])
    def land(**context) -> dict[str, int]:
        from airflow.sdk.exceptions import AirflowFailException

        from zhongtai.landing.land import LandingRefused, land_source

        settings = run_settings(context)
        try:
            outcome = land_source(source, settings.today(), settings, on_file=_log_file)
        except LandingRefused as refused:
            # Retrying cannot fix a bad file: fail now, the file is safe in quarantine.
            raise AirflowFailException(str(refused)) from refused
        return {
            "batches_landed": len(outcome.landed),
            "batches_already_landed": len(outcome.already_landed),
            "rows_landed": outcome.rows_landed,
        }

    return land()


@dag(
    dag_id="land_raw",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["zhongtai", "landing", "privacy"],
    default_args={"owner": "data-engineering", "retries": 1, "retry_delay": timedelta(minutes=5)},
)
def land_raw() -> None:
    for source in declared_sources():
        land_task(source)


dag = land_raw()

if __name__ == "__main__":
    dag.test()
