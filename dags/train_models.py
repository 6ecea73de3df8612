"""
### train_models: feature services → credit and fraud models → MLflow → promotion gate

Runs when `materialize_features` has refreshed the feature services, and every Monday at
03:00 UTC in any case (labels mature with time even when features do not move). The run
lists the model families of `ml/` (`model_families`), then trains each (one mapped
`train` task per family, one at a time: the MLflow store has one writer):

1. its training rows: labelled applications with their features as of each application;
2. feature selection and the spec's algorithms, validated on the last months out of time;
3. an MLflow run with data fingerprint, selection report, metrics, plots and models;
4. the chosen model registered as a new version, alias `challenger`;
5. the promotion gate: `champion` moves only if the challenger beats the champion's
   out-of-time AUC by the configured margin within the PSI and fairness limits, each read
   through its confidence interval, with the burden of proof the spec sets for this
   environment (ml/README.md). The decision and its evidence are logged either way.

Same features and labels, same spec: same metrics (every seed comes from the spec).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task

from zhongtai.assets import feature_asset
from zhongtai.clock import run_settings
from zhongtai.features.build import FEATURE_SERVICES


@task
def model_families(**context) -> list[str]:
    """The families of `ml/*.yml`, read when the run starts (not while the DAG is parsed)."""
    from zhongtai.ml.spec import model_families

    return list(model_families(run_settings(context)))


# one at a time: the MLflow store has one writer; each mapped task is named by its family
@task(max_active_tis_per_dagrun=1, map_index_template="{{ family }}")
def train(family: str, **context) -> dict[str, Any]:
    from zhongtai.ml.retrain import retrain

    get_current_context()["family"] = family  # the name map_index_template shows
    outcome = retrain(family, run_settings(context))
    return {
        "family": family,
        "version": outcome.version,
        "promoted": outcome.promoted,
        "champion": outcome.champion,
        "out_of_time_auc": outcome.metrics.get("auc"),
        "refused_because": outcome.decision.reasons,
    }


@dag(
    dag_id="train_models",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 3 * * 1", timezone="UTC"),
        assets=[feature_asset(service) for service in FEATURE_SERVICES],
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
