"""Cross-validate a spec on its platform rows: what ``zhongtai models cv`` prints and
``bench/german_credit.py`` records, through one code path.

The rows are read as training reads them (``load_frame``: a protected feature the spec
does not justify is refused), then ``evaluate.cross_validate`` runs repeated stratified
k-fold through ``train_models``: selection and fitting on each training part, metrics on
its test part, for every algorithm of the spec. Any spec can be cross-validated, with a
promotion section or not.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from zhongtai.ml.data import load_frame
from zhongtai.ml.evaluate import cross_validate
from zhongtai.ml.spec import CrossValidationSpec, ModelSpec, SpecError, load_spec
from zhongtai.settings import Settings


def cross_validate_spec(
    spec: str | Path | ModelSpec,
    settings: Settings,
    cross_validation: CrossValidationSpec | None = None,
) -> dict[str, Any]:
    """``spec`` (a family name, a spec file or a loaded spec) cross-validated on its rows,
    with the folds of ``cross_validation`` or else the spec's own.

    Returns ``cross_validate``'s report (per algorithm: each metric's mean and standard
    deviation, the AUC of each fold; how often each feature was dropped and why) with the
    spec, its chosen algorithm, the label, the rows, the default rate and the number of
    candidate features. Raises SpecError for a spec without folds to run.
    """
    loaded = spec if isinstance(spec, ModelSpec) else load_spec(spec, settings)
    folds = cross_validation or loaded.validation.cross_validation
    if folds is None:
        raise SpecError(
            f"{loaded.name}: no validation.cross_validation in the spec: give the folds "
            "(n_splits, n_repeats)"
        )
    frame = load_frame(loaded, settings)
    with warnings.catch_warnings():  # sklearn / optbinning deprecation chatter, once a fold
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        report = cross_validate(loaded, frame, folds)
    return {
        "spec": loaded.name,
        "algorithm": loaded.algorithm,
        "label": loaded.label,
        "source": loaded.data.mart or loaded.data.feature_service,
        "rows": len(frame),
        "default_rate": round(float(frame[loaded.label].mean()), 4),
        "candidate_features": len(loaded.candidate_features(list(frame.columns))),
        **report,
    }
