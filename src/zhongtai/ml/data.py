"""Modelling rows: what a spec trains on, read from the platform, and how it is split.

- A spec with a ``feature_service`` (credit_pd) trains on labelled applications: the
  ``loan_performance_labels`` mart gives each loan's application and its label, and the
  service's features come point in time, as of the application, from
  ``zhongtai.features.training.training_set`` (the same join Feast does).
- A spec with a ``mart`` (german_credit) trains on the mart's rows as they are.

Rows without an observable label are left out; the label becomes 0 / 1.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from zhongtai.ml.spec import CrossValidationSpec, ModelSpec
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

LABELS_MART = "loan_performance_labels"
EVENT_TIMESTAMP = "event_timestamp"


def load_frame(spec: ModelSpec, settings: Settings) -> pd.DataFrame:
    """The spec's modelling rows: key, date (if any), features, label; sorted by date, key."""
    if spec.data.mart is not None:
        frame = mart_frame(settings, spec.data.mart, spec.label)
    else:
        assert spec.data.feature_service is not None  # the spec validates one of the two
        frame = service_frame(settings, spec.data.feature_service, spec.label, spec.data.key)
    missing = [
        c for c in (spec.data.key, spec.data.date_column, spec.label) if c and c not in frame
    ]
    if missing:
        raise KeyError(f"{spec.name}: the data has no column {', '.join(missing)}")
    order = [c for c in (spec.data.date_column, spec.data.key) if c]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)


def mart_frame(settings: Settings, mart: str, label: str) -> pd.DataFrame:
    """A mart's rows with an observed ``label``, as 0 / 1."""
    path = mart_path(settings, mart)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the {mart} mart is not built (zhongtai warehouse build)")
    frame = pd.read_parquet(path)
    if label not in frame:
        raise KeyError(f"{path}: no label column {label!r}")
    return with_binary_label(frame, label)


def service_frame(settings: Settings, service: str, label: str, key: str) -> pd.DataFrame:
    """Labelled applications with ``service``'s features as of each application.

    Columns: ``key`` (application_id), ``applied_at``, the service's features, ``label``.
    """
    import duckdb

    from zhongtai.features.training import training_set

    path = mart_path(settings, LABELS_MART)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the {LABELS_MART} mart is not built")
    with duckdb.connect() as connection:
        labelled = connection.execute(
            f'select "{key}", applicant_id, applied_at, "{label}" from read_parquet(?) '
            f'where "{label}" is not null order by applied_at, "{key}"',
            [str(path)],
        ).df()
    entity_df = labelled.assign(**{EVENT_TIMESTAMP: labelled["applied_at"]})
    rows = training_set(settings, service, entity_df).to_pandas()
    rows = rows.drop(columns=[EVENT_TIMESTAMP, "applicant_id"])
    ordered = [key, "applied_at", *[c for c in rows if c not in (key, "applied_at", label)], label]
    return with_binary_label(rows[ordered], label)


def with_binary_label(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Rows whose label is observed, the label as int 0 / 1 (booleans or 0 / 1 numbers)."""
    observed = frame[frame[label].notna()].copy()
    found = observed[label].unique().tolist()
    unexpected = [v for v in found if not (isinstance(v, bool | int | float) and v in (0, 1))]
    if unexpected:
        raise ValueError(f"label {label!r} holds {unexpected}, expected booleans or 0 / 1")
    observed[label] = observed[label].astype(bool).astype(int)
    return observed.reset_index(drop=True)


def split_out_of_time(
    frame: pd.DataFrame, date_column: str, months: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Development rows before the cut, out-of-time rows from it: the cut is the start of
    the day ``months`` months before the last row's date. Returns (development, oot, cut)."""
    dates = pd.to_datetime(frame[date_column])
    cut = (dates.max() - pd.DateOffset(months=months)).normalize()
    development = frame[dates < cut].reset_index(drop=True)
    out_of_time = frame[dates >= cut].reset_index(drop=True)
    if development.empty or out_of_time.empty:
        raise ValueError(
            f"out-of-time cut {cut:%Y-%m-%d} leaves {len(development)} development and "
            f"{len(out_of_time)} out-of-time rows"
        )
    return development, out_of_time, cut


def cross_validation_splits(
    frame: pd.DataFrame, label: str, cross_validation: CrossValidationSpec, seed: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Repeated stratified k-fold positions (train, test), reproducible from ``seed``."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    folds = RepeatedStratifiedKFold(
        n_splits=cross_validation.n_splits,
        n_repeats=cross_validation.n_repeats,
        random_state=seed,
    )
    yield from folds.split(np.zeros(len(frame)), frame[label].to_numpy())
