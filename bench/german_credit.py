"""Benchmark: the partner German Credit portfolio cross-validated from its spec.

    .venv/bin/python -m bench.german_credit --data-dir DIR   # DIR holds a built warehouse
    .venv/bin/python -m bench.german_credit --data-dir DIR --spec path/to/spec.yml

Reads the rows of the spec (by default ``ml/german_credit.yml``: the
``partner_portfolio_records`` mart of DIR, the UCI Statlog German Credit data, 1,000
loans, landed as partner P900) and runs the spec's repeated stratified cross-validation
(5 × 5, the spec's seed) through ``zhongtai.ml.validate.cross_validate_spec``, the code
``zhongtai models cv`` runs: feature selection and fitting on each training part, AUC on
its test part, for every algorithm of the spec.

Writes bench/results/<spec>.json: ``auc_mean``, ``auc_std`` and ``folds`` (the AUC of
each fold) of the spec's chosen algorithm, the same figures (and Gini, KS, AUPRC, Brier)
for every algorithm, how often each feature was dropped and why, the data's size, the
wall time and the machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.machine import RESULTS_DIR, describe_machine, write_results
from zhongtai.ml.spec import load_spec
from zhongtai.ml.validate import cross_validate_spec
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

SPEC = "german_credit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="a data dir with marts")
    parser.add_argument(
        "--spec", default=SPEC, help=f"a spec of ml/ by name, or a spec file (default {SPEC})"
    )
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir.resolve(), env="test")
    name_or_path = Path(args.spec) if Path(args.spec).suffix in (".yml", ".yaml") else args.spec
    spec = load_spec(name_or_path, settings)

    started = time.perf_counter()
    validation = cross_validate_spec(spec, settings)
    wall_s = time.perf_counter() - started
    headline = validation["algorithms"][spec.algorithm]
    data: dict[str, object] = {"mart": spec.data.mart, "feature_service": spec.data.feature_service}
    if spec.data.mart is not None:
        data["parquet_bytes"] = mart_path(settings, spec.data.mart).stat().st_size
    result = {
        "spec": spec.name,
        "algorithm": spec.algorithm,
        "auc_mean": headline["auc_mean"],
        "auc_std": headline["auc_std"],
        "folds": headline["folds"],
        **validation,
        "data": data,
        "wall_s": round(wall_s, 1),
        "machine": describe_machine(),
    }
    write_results(RESULTS_DIR / f"{spec.name}.json", result)
    summary = {a: (v["auc_mean"], v["auc_std"]) for a, v in validation["algorithms"].items()}
    print(f"{spec.name}: {validation['rows']} rows; AUC mean, std by algorithm: {summary}")


if __name__ == "__main__":
    main()
