"""Modelling rows: what a spec trains on, read from the platform, and how it is split.

- A spec with a ``feature_service`` (credit_pd, fraud) trains on labelled applications:
  the ``loan_performance_labels`` mart gives each loan's application and its label, the
  ``application_features`` mart the application's join keys (applicant, device, IP range:
  whichever the service's views are keyed on), and the service's features come point in
  time, as of the application, from ``zhongtai.features.training.training_set`` (the same
  join Feast does). The join keys are pseudonyms, never features: they leave the frame.
- A spec with a ``mart`` (german_credit) trains on the mart's rows as they are.

The fairness attributes are read for the report whether or not the model may use them:
when the service does not serve one (fraud has no age), it comes from the application
mart, and the spec must exclude it, since a model can only use what its service serves
online. Rows without an observable label are left out; the label becomes 0 / 1.

Protected columns (those the contracts mark as a protected characteristic or its proxy:
age, sex, marital status, ethnicity, region) are checked as the rows are read: one among
the candidate features is refused unless the spec justifies it, and a gated spec must
cover every one its rows hold in its fairness section.

The rows are then split for validation as the spec says: the last months out of time
(a book with application dates), or a holdout chosen by each row's key (a book without).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from zhongtai.contracts import protected_fields
from zhongtai.ml.spec import (
    CrossValidationSpec,
    ModelSpec,
    Window,
    check_fairness_coverage,
    check_protected_features,
)
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

LABELS_MART = "loan_performance_labels"
APPLICATIONS_MART = "application_features"  # one row per application: its join keys
EVENT_TIMESTAMP = "event_timestamp"


class NoTrainingRows(ValueError):
    """The spec's source holds no labelled row yet (a declared source never delivered)."""


def load_frame(spec: ModelSpec, settings: Settings) -> pd.DataFrame:
    """The spec's modelling rows: key, date (if any), features, the fairness attributes
    (if any), label; sorted by date, key.

    Raises SpecError for a protected candidate feature the spec does not justify, or (a
    gated spec) a protected column its fairness section leaves out; NoTrainingRows when
    no row has a label.
    """
    if spec.data.mart is not None:
        frame = mart_frame(settings, spec.data.mart, spec.label)
    else:
        assert spec.data.feature_service is not None  # the spec validates one of the two
        service = spec.data.feature_service
        frame = service_frame(
            settings,
            service,
            spec.label,
            spec.data.key,
            carry=list(spec.fairness.attributes) if spec.fairness else [],
        )
        _, served = service_columns(settings, service)
        unserved = [f for f in spec.candidate_features(list(frame.columns)) if f not in served]
        if unserved:
            raise ValueError(
                f"{spec.name}: {service} does not serve {', '.join(unserved)}, so a model "
                "using it could not be scored online: add it to features.exclude"
            )
    missing = [
        c for c in (spec.data.key, spec.data.date_column, spec.label) if c and c not in frame
    ]
    if missing:
        raise KeyError(f"{spec.name}: the data has no column {', '.join(missing)}")
    protected = protected_fields(settings)
    check_protected_features(spec, spec.candidate_features(list(frame.columns)), protected)
    if spec.promotion is not None:
        check_fairness_coverage(spec, list(frame.columns), protected)
    if frame.empty:
        source = spec.data.mart or spec.data.feature_service
        raise NoTrainingRows(f"{spec.name}: {source} holds no row with a label yet")
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


def service_columns(settings: Settings, service: str) -> tuple[list[str], list[str]]:
    """The join keys ``service``'s views are keyed on (sorted) and its features."""
    from zhongtai.features.repo import open_store
    from zhongtai.features.training import service_lookups

    lookups, features = service_lookups(open_store(settings), service)
    join_keys = sorted({entity for lookup in lookups for _, entity in lookup.join_keys})
    return join_keys, features


def service_frame(
    settings: Settings,
    service: str,
    label: str,
    key: str,
    carry: Sequence[str] = (),
) -> pd.DataFrame:
    """Labelled applications with ``service``'s features as of each application.

    Columns: ``key`` (application_id), ``applied_at``, the service's features, the
    ``carry`` columns the service does not serve (from the application mart, as of the
    application: the fairness attribute), ``label``. The join keys are left out.
    """
    import duckdb
    import pyarrow.parquet as pq

    from zhongtai.features.training import training_set

    labels, applications = (mart_path(settings, m) for m in (LABELS_MART, APPLICATIONS_MART))
    for mart, path in ((LABELS_MART, labels), (APPLICATIONS_MART, applications)):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the {mart} mart is not built")
    join_keys, features = service_columns(settings, service)
    carried = [c for c in carry if c not in features and c not in join_keys]
    absent = sorted({*join_keys, *carried} - set(pq.read_schema(applications).names))
    if absent:
        raise KeyError(
            f"{applications}: no column {', '.join(absent)}; wanted for each application "
            f"as a join key of {service} or carried beside its features"
        )
    picked = "".join(f', a."{c}"' for c in (*join_keys, *carried))
    with duckdb.connect() as connection:
        labelled = connection.execute(
            f'select l."{key}", l.applied_at{picked}, l."{label}" '
            "from read_parquet(?) as l join read_parquet(?) as a using (application_id) "
            f'where l."{label}" is not null order by l.applied_at, l."{key}"',
            [str(labels), str(applications)],
        ).df()
    entity_df = labelled.assign(**{EVENT_TIMESTAMP: labelled["applied_at"]})
    rows = training_set(settings, service, entity_df).to_pandas()
    ordered = [key, "applied_at", *features, *carried, label]
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


@dataclass(frozen=True)
class Split:
    """A spec's rows split for validation: development, and the out-of-sample rows the
    models are measured and gated on (``window``)."""

    window: Window
    development: pd.DataFrame
    held_out: pd.DataFrame
    params: dict[str, Any]  # what defines the split, as run parameters

    @property
    def name(self) -> str:
        """The held-out rows in words: "out of time" or "holdout"."""
        return self.window.replace("_", " ")

    def describe(self) -> str:
        """One line: the rows on each side and where the split fell."""
        where = (
            f"before {self.params['out_of_time.cut']}"
            if self.window == "out_of_time"
            else f"outside the holdout of {self.params['holdout.share']:.0%}"
        )
        return (
            f"{len(self.development):,} development rows {where}, "
            f"{len(self.held_out):,} {self.name}"
        )


def split_for_validation(spec: ModelSpec, frame: pd.DataFrame) -> Split:
    """``frame`` split by the spec's out-of-sample window (``validation.out_of_time`` or
    ``validation.holdout``). Raises ValueError for a spec with neither."""
    validation = spec.validation
    if validation.out_of_time is not None:
        assert spec.data.date_column is not None  # the spec validates it
        development, out_of_time, cut = split_out_of_time(
            frame, spec.data.date_column, validation.out_of_time.months
        )
        params = {
            "out_of_time.cut": f"{cut:%Y-%m-%d}",
            "out_of_time.months": validation.out_of_time.months,
        }
        return Split("out_of_time", development, out_of_time, params)
    if validation.holdout is not None:
        development, held_out = split_holdout(
            frame, spec.data.key, validation.holdout.share, spec.seed
        )
        params = {"holdout.share": validation.holdout.share, "holdout.seed": spec.seed}
        return Split("holdout", development, held_out, params)
    raise ValueError(
        f"{spec.name}: no out-of-sample window: give validation.out_of_time or validation.holdout"
    )


def holdout_position(key: object, seed: int) -> float:
    """Where ``key`` falls in [0, 1) once hashed with ``seed``: the same on any machine."""
    digest = hashlib.blake2b(
        str(key).encode(), digest_size=8, key=seed.to_bytes(8, "big", signed=False)
    ).digest()
    return int.from_bytes(digest, "big") / 2**64


def split_holdout(
    frame: pd.DataFrame, key: str, share: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Development rows and held-out rows: a row is held out when its ``key``, hashed with
    ``seed``, falls below ``share``. A record keeps its side whatever other rows come or
    go, so a model trained on an earlier book is not measured on rows it learnt from.

    Raises ValueError when a side is empty or a key repeats.
    """
    if not 0 < share < 1:
        raise ValueError(f"holdout share must be in (0, 1), got {share}")
    repeated = frame[key][frame[key].duplicated()].unique().tolist()
    if repeated:
        raise ValueError(f"{key} repeats ({repeated[:3]}): a holdout needs one row per key")
    held = np.array([holdout_position(k, seed) < share for k in frame[key]], dtype=bool)
    development = frame[~held].reset_index(drop=True)
    held_out = frame[held].reset_index(drop=True)
    if development.empty or held_out.empty:
        raise ValueError(
            f"a holdout of {share:g} leaves {len(development)} development and "
            f"{len(held_out)} held-out rows"
        )
    return development, held_out


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
