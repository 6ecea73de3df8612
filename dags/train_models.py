"""
### train_models: feature services → credit and fraud models → MLflow → promotion gate

Runs when `materialize_features` has refreshed the feature services the models read,
and every Monday at 03:00 UTC in any case (labels mature with time even when features do
not move). For each model family of `ml/` (one task each, one after the other: the
MLflow store has one writer):

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

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from zhongtai.assets import feature_asset
from zhongtai.clock import run_settings
from zhongtai.ml.spec import load_spec

FAMILIES = ("credit_pd", "fraud")
SERVICES = sorted({str(load_spec(family).data.feature_service) for family in FAMILIES})


@task
def train(family: str, **context) -> dict[str, Any]:
    from zhongtai.ml.retrain import retrain

    outcome = retrain(family, run_settings(context))
    return {
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
        assets=[feature_asset(service) for service in SERVICES],
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["zhongtai", "models", "mlflow"],
    default_args={"owner": "credit-risk", "retries": 1, "retry_delay": timedelta(minutes=5)},
)
def train_models() -> None:
    previous = None
    for family in FAMILIES:
        trained = train.override(task_id=f"train_{family}")(family)
        if previous is not None:
            previous >> trained
        previous = trained


dag = train_models()

if __name__ == "__main__":
    dag.test()
