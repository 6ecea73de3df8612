"""Benchmark: what the graph features add to fraud detection, and what they cost to build.

    .venv/bin/python -m bench.graph_lift --data-dir DIR   # DIR holds a built warehouse

Builds ``features/graph_features.parquet`` from DIR's marts in a child process (its wall
time and peak RSS are recorded), then trains the same LightGBM model twice on the same
out-of-time split: without and with the graph features. The label is the first-payment
default, the fraud proxy of this data (fraud rings default on their first instalment);
rows without an observable label are left out. Test rows are the last ``--test-days`` of
applications with an observable label, training rows everything before.

Writes bench/results/graph_lift.json: AUPRC without and with the graph, their ratio (lift),
the recall of defaults at 99% precision (an automatic decline), rows, cut date, feature
counts, data size, the graph build's wall_s / peak_rss_mb and the machine; and the same
comparison without the bureau inquiry features, a lender without bureau data.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from bench.machine import RESULTS_DIR, describe_machine, run_measured, write_results
from zhongtai.graph.build import build_graph_features, graph_features_path
from zhongtai.graph.sql import FEATURE_COLUMNS
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

RESULTS = RESULTS_DIR / "graph_lift.json"
LABEL = "is_first_payment_default"
KEYS = ("application_id", "applicant_id", "applied_at")
GRAPH_COLUMNS = [column for column in FEATURE_COLUMNS if column not in KEYS]
# Keys, times and the label are never features; neither are identifiers (one value per
# applicant) of high cardinality: strings with more distinct values than this are dropped.
NOT_FEATURES = {*KEYS, LABEL}
MAX_CATEGORIES = 64
# Operating point of an automatic decline: the share of defaults caught at this precision.
DECLINE_PRECISION = 0.99
# A second scenario: a lender without bureau data, where the base model loses its best
# view of a ring (members' inquiry bursts).
BUREAU_PREFIX = "inquir"
SEED = 7
LIGHTGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 400,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 100,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "random_state": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "n_jobs": 2,
    "verbose": -1,
}


def build_measured(settings: Settings) -> tuple[float, float]:
    """Build the graph features in a child process: its wall seconds and peak RSS (MB)."""
    env = {**os.environ, "ZHONGTAI_DATA_DIR": str(settings.data_dir), "ZHONGTAI_ENV": "test"}
    print(f"building the graph features of {settings.data_dir} ...", flush=True)
    return run_measured([sys.executable, "-m", "bench.graph_lift", "--build-only"], env=env)


def load_rows(settings: Settings) -> pd.DataFrame:
    """Applications with an observable label: their features, the graph's and the label."""
    sources = {
        "application_features": mart_path(settings, "application_features"),
        "applicant_features": mart_path(settings, "applicant_features"),
        "labels": mart_path(settings, "loan_performance_labels"),
        "graph": graph_features_path(settings),
    }
    read = {name: f"read_parquet('{path}')" for name, path in sources.items()}
    graph = ", ".join(f"g.{c}" for c in GRAPH_COLUMNS)
    query = f"""
        select a.*, p.* exclude (application_id, applicant_id, applied_at), {graph}, l.{LABEL}
        from {read["application_features"]} as a
        inner join {read["labels"]} as l on l.application_id = a.application_id
        left join {read["applicant_features"]} as p on p.application_id = a.application_id
        inner join {read["graph"]} as g on g.application_id = a.application_id
        where l.{LABEL} is not null
        order by a.application_id
    """
    return duckdb.connect().execute(query).df()


def base_columns(rows: pd.DataFrame) -> list[str]:
    """Numeric and boolean columns, and strings of few values (as categories)."""
    columns = []
    for column in rows.columns:
        if column in NOT_FEATURES or column in GRAPH_COLUMNS:
            continue
        kind = rows[column].dtype
        if kind is np.dtype(object):
            if rows[column].nunique() <= MAX_CATEGORIES:
                rows[column] = rows[column].astype("category")
                columns.append(column)
        elif pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_bool_dtype(kind):
            columns.append(column)
    return columns


def evaluate(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> dict[str, float]:
    """Train on `train`, score `test`: AUPRC, and recall at `DECLINE_PRECISION`."""
    import lightgbm as lgb
    from sklearn.metrics import average_precision_score, precision_recall_curve

    model = lgb.LGBMClassifier(**LIGHTGBM_PARAMS)
    model.fit(_numeric(train[columns]), train[LABEL].astype(int))
    scores = np.asarray(model.predict_proba(_numeric(test[columns])))[:, 1]
    labels = test[LABEL].astype(int)
    precision, recall, _ = precision_recall_curve(labels, scores)
    return {
        "auprc": float(average_precision_score(labels, scores)),
        "recall_at_precision": float(recall[precision >= DECLINE_PRECISION].max()),
    }


def compare(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> dict[str, float]:
    """The same model without and with the graph features."""
    without_graph = evaluate(train, test, columns)
    with_graph = evaluate(train, test, columns + GRAPH_COLUMNS)
    recall = f"recall_at_precision_{DECLINE_PRECISION:g}"
    return {
        "auprc_without_graph": round(without_graph["auprc"], 4),
        "auprc_with_graph": round(with_graph["auprc"], 4),
        "lift": round(with_graph["auprc"] / without_graph["auprc"], 3),
        f"{recall}_without_graph": round(without_graph["recall_at_precision"], 4),
        f"{recall}_with_graph": round(with_graph["recall_at_precision"], 4),
        "features_without_graph": len(columns),
        "features_with_graph": len(columns) + len(GRAPH_COLUMNS),
    }


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    booleans = [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c].dtype)]
    return frame.astype(dict.fromkeys(booleans, "float64"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--test-days", type=int, default=91)
    parser.add_argument("--skip-build", action="store_true", help="reuse graph_features.parquet")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.build_only:  # the child process of build_measured
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        build_graph_features(Settings())
        return
    if args.data_dir is None:
        parser.error("--data-dir is required: a data dir with a built warehouse")
    settings = Settings(data_dir=args.data_dir.resolve(), env="test")

    result: dict[str, object] = {}
    if not args.skip_build:
        wall_s, peak_mb = build_measured(settings)
        result["graph_build"] = {"wall_s": round(wall_s, 1), "peak_rss_mb": peak_mb}

    started = time.perf_counter()
    rows = load_rows(settings)
    columns = base_columns(rows)
    last_labelled: datetime = rows["applied_at"].max().to_pydatetime()
    cut = (last_labelled - timedelta(days=args.test_days)).replace(hour=0, minute=0, second=0)
    train = rows[rows["applied_at"] < cut]
    test = rows[rows["applied_at"] >= cut]
    print(f"training on {len(train):,} rows, testing on {len(test):,} from {cut:%Y-%m-%d}")
    scores = compare(train, test, columns)
    without_bureau = [column for column in columns if not column.startswith(BUREAU_PREFIX)]
    scores_without_bureau = compare(train, test, without_bureau)

    applications = (
        duckdb.connect()
        .execute(
            "select count(*), count(distinct applicant_id) "
            f"from read_parquet('{mart_path(settings, 'application_features')}')"
        )
        .fetchall()[0]
    )
    result |= {
        **scores,
        "without_bureau_inquiries": scores_without_bureau,
        "label": LABEL,
        "base_rate_test": round(float(np.mean(test[LABEL].astype(int))), 4),
        "rows_train": len(train),
        "rows_test": len(test),
        "cut_date": cut.date().isoformat(),
        "last_labelled_applied_at": last_labelled.isoformat(),
        "graph_features": GRAPH_COLUMNS,
        "lightgbm": LIGHTGBM_PARAMS,
        "applications": int(applications[0]),
        "applicants": int(applications[1]),
        "training_wall_s": round(time.perf_counter() - started, 1),
        "machine": describe_machine(),
    }
    write_results(RESULTS, result)


if __name__ == "__main__":
    main()
