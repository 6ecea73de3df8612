"""Benchmark: the partner German Credit portfolio through the platform's credit models.

    .venv/bin/python -m bench.german_credit --data-dir DIR   # DIR holds a built warehouse

Reads the ``partner_portfolio_records`` mart of DIR (the UCI Statlog German Credit data,
1,000 loans, landed as partner P900) as ``ml/german_credit.yml`` says, and runs 5 × 5
repeated stratified cross-validation (the spec's seed) through ``zhongtai.ml``: feature
selection and fitting on each training part, AUC on its test part, for the scorecard and
for LightGBM.

Writes bench/results/german_credit.json: ``auc_mean``, ``auc_std`` and ``folds`` (the AUC
of each fold) of the spec's chosen algorithm, the same figures (and Gini, KS, Brier) for
both algorithms, how often each feature was dropped and why, the data's size and the
machine.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from bench.machine import RESULTS_DIR, describe_machine, write_results
from zhongtai.ml.data import load_frame
from zhongtai.ml.evaluate import cross_validate
from zhongtai.ml.spec import load_spec
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

RESULTS = RESULTS_DIR / "german_credit.json"
SPEC = "german_credit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="a data dir with marts")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir.resolve(), env="test")
    spec = load_spec(SPEC)
    assert spec.data.mart is not None

    frame = load_frame(spec, settings)
    started = time.perf_counter()
    with warnings.catch_warnings():  # sklearn / optbinning deprecation chatter, 25 times over
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        validation = cross_validate(spec, frame)
    wall_s = time.perf_counter() - started
    headline = validation["algorithms"][spec.algorithm]
    result = {
        "spec": spec.name,
        "algorithm": spec.algorithm,
        "auc_mean": headline["auc_mean"],
        "auc_std": headline["auc_std"],
        "folds": headline["folds"],
        **validation,
        "label": spec.label,
        "rows": len(frame),
        "default_rate": round(float(frame[spec.label].mean()), 4),
        "candidate_features": len(spec.candidate_features(list(frame.columns))),
        "data": {
            "mart": spec.data.mart,
            "parquet_bytes": mart_path(settings, spec.data.mart).stat().st_size,
        },
        "wall_s": round(wall_s, 1),
        "machine": describe_machine(),
    }
    write_results(RESULTS, result)
    summary = {a: (v["auc_mean"], v["auc_std"]) for a, v in validation["algorithms"].items()}
    print(f"{spec.name}: {len(frame)} rows; AUC mean, std by algorithm: {summary}")


if __name__ == "__main__":
    main()
