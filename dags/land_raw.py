"""
### land_raw: land every source into the raw zone

For the run's day *D* (`ZHONGTAI_AS_OF` when set, else the day of the logical date), each
task lands the files delivered under `inbox/D/<source>/` into the immutable raw zone
(`raw/<source>/ingest_date=D/...`):

1. each file is checked against its **data contract** (declared fields, types, no
   prohibited categories such as contacts, SMS, photos, audio or location history, by
   name or by value), every string against its size limit, every string kept in clear
   for personal data it is not declared for (national IDs, mobiles, bank cards,
   e-mail addresses), and each national ID for its check character, its birth date
   (which must be the declared one) and the applicant's age;
2. national ID, phone, name and address become keyed **HMAC pseudonyms**; clear values
   that must be kept go only to the **encrypted vault**;
3. the batch is written as Parquet with a **manifest** (rows, checksums, schema version).

A refused file goes to `quarantine/` (encrypted, with a `reason.json`) and the task fails
naming file, row and field. Rerunning a date writes nothing new. Each task emits the
`raw_<source>` asset that the warehouse is scheduled on.

The task `check_inbox` fails, naming each one, when `inbox/D/` holds a folder or file
that is not for landing (a partner's folder without `contracts/<folder>.yml`, a file
that is not `<source>/*.csv`, a symbolic link, which is never followed, or a file whose
name holds personal data): such a delivery is not landed, and a warning in a log
nobody reads would lose it. It runs beside the landing tasks, so every good source still
lands and emits its asset; the run is marked failed until the content is claimed (a
contract added) or removed, and a rerun then passes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from airflow.sdk import dag, task

from zhongtai.assets import raw_asset
from zhongtai.clock import run_settings
from zhongtai.contracts import declared_sources

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


@task(task_id="check_inbox")
def check_inbox(**context) -> int:
    """Fail naming every inbox folder and file of the day that no contract claims."""
    from airflow.sdk.exceptions import AirflowFailException

    from zhongtai.landing.land import unclaimed_inbox_content

    settings = run_settings(context)
    unclaimed = unclaimed_inbox_content(settings.today(), settings)
    for item in unclaimed:
        log.warning("not landed: %s", item.describe())
    if unclaimed:
        lines = [f"{len(unclaimed)} inbox item(s) claimed by no contract, not landed:"]
        lines += [f"  {item.describe()}" for item in unclaimed]
        # Retrying cannot claim a folder: a contract or a person must.
        raise AirflowFailException("\n".join(lines))
    return 0


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
    check_inbox()


dag = land_raw()

if __name__ == "__main__":
    dag.test()
