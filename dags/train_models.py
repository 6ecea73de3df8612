"""
### train_models: marts and feature services → models → MLflow → promotion gate

Each model family is retrained when what its spec reads is published:

- a family that reads feature services (credit_pd, fraud) when `materialize_features` has
  refreshed every feature service;
- a family that reads a mart (german_credit, a partner's book) when `build_warehouse` has
  published that mart;
- every family every Monday at 03:00 UTC in any case (labels mature with time even when
  features do not move), and in a run started by hand.

The run reads the specs of `ml/` when it starts (never while this file is parsed), picks
the families the publication that triggered it concerns, then trains each (one mapped
`train` task per family, one at a time: the MLflow store has one writer):

1. its rows: labelled applications with their features as of each application, or the
   mart's rows; a protected column is refused as a feature unless the spec justifies it;
2. feature selection and the spec's algorithms, validated on the rows the spec holds out
   (the last months out of time, or a holdout for a book without dates);
3. an MLflow run with data fingerprint, selection report, metrics, plots and models;
4. the chosen model registered as a new version, alias `challenger`;
5. the promotion gate: `champion` moves only if the challenger beats the champion's AUC on
   the held-out rows by the configured margin within the PSI and fairness limits (every
   protected column of the data), each read through its confidence interval, with the
   burden of proof the spec sets for this environment (ml/README.md). The decision and
   its evidence are logged either way: a refused challenger is a successful task.

A family whose source holds no labelled row yet (a partner that has delivered nothing) is
skipped, not failed. Same data, same spec: same metrics (every seed comes from the spec).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import (
    AssetAll,
    AssetAny,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    dag,
    get_current_context,
    task,
)

from zhongtai.assets import feature_asset, mart_asset
from zhongtai.clock import run_settings
from zhongtai.features.build import FEATURE_SERVICES
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import marts

SERVICE_ASSETS = {feature_asset(service).name: service for service in FEATURE_SERVICES}
# the marts are the dbt project's files (listed, not read): every publication of one can
# concern a family that reads it
MARTS = marts(Settings())
MART_ASSETS = {mart_asset(mart).name: mart for mart in MARTS}


@task
def model_families(**context) -> list[str]:
    """The families of `ml/*.yml` this run trains, read when it starts: those reading what
    was published (a mart, the feature services), or all of them (the weekly or a manual
    run, which no publication triggered)."""
    from zhongtai.ml.spec import families_reading, model_families

    settings = run_settings(context)
    published = [asset.name for asset in context.get("triggering_asset_events") or {}]
    if not published:
        return list(model_families(settings))
    return list(
        families_reading(
            settings,
            marts={MART_ASSETS[name] for name in published if name in MART_ASSETS},
            feature_services={SERVICE_ASSETS[name] for name in published if name in SERVICE_ASSETS},
        )
    )


# one at a time: the MLflow store has one writer; each mapped task is named by its family
@task(max_active_tis_per_dagrun=1, map_index_template="{{ family }}")
def train(family: str, **context) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowSkipException

    from zhongtai.ml.data import NoTrainingRows
    from zhongtai.ml.retrain import retrain

    get_current_context()["family"] = family  # the name map_index_template shows
    try:
        outcome = retrain(family, run_settings(context))
    except NoTrainingRows as empty:
        raise AirflowSkipException(str(empty)) from empty
    return {
        "family": family,
        "version": outcome.version,
        "promoted": outcome.promoted,
        "champion": outcome.champion,
        "held_out_auc": outcome.metrics.get("auc"),
        "refused_because": outcome.decision.reasons,
    }


@dag(
    dag_id="train_models",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 3 * * 1", timezone="UTC"),
        # every feature service refreshed, or any mart published: the run picks the
        # families that read what was published
        assets=AssetAny(
            AssetAll(*(feature_asset(service) for service in FEATURE_SERVICES)),
            *(mart_asset(mart) for mart in MARTS),
        ),
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["zhongtai", "models", "mlflow"],
    default_args={"owner": "credit-risk", "retries": 1, "retry_delay": timedelta(minutes=5)},
)
def train_models() -> None:
    train.expand(family=model_families())


dag = train_models()

if __name__ == "__main__":
    dag.test()
