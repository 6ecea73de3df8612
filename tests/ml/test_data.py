"""Modelling rows: read from the marts or a feature service, labelled, split in time."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tests.ml.frames import credit_rows, write_german_credit_mart
from zhongtai.ml.data import (
    cross_validation_splits,
    load_frame,
    split_out_of_time,
    with_binary_label,
)
from zhongtai.ml.spec import CrossValidationSpec, load_spec
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path


def test_the_partner_book_is_read_from_its_mart(settings: Settings) -> None:
    spec = load_spec("german_credit")
    with pytest.raises(FileNotFoundError, match="partner_portfolio_records mart is not built"):
        load_frame(spec, settings)
    write_german_credit_mart(settings)
    frame = load_frame(spec, settings)
    assert len(frame) == 1000
    assert frame["record_id"].is_monotonic_increasing
    assert frame["is_bad"].dtype == np.int64 and frame["is_bad"].sum() == 300
    assert spec.candidate_features(list(frame.columns)) == spec.features.include


def test_labels_become_0_or_1_and_unobserved_ones_are_left_out() -> None:
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "label": [True, None, False, True]})
    labelled = with_binary_label(frame, "label")
    assert labelled["id"].tolist() == [1, 3, 4] and labelled["label"].tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match=r"label 'label' holds \[2\], expected booleans or 0 / 1"):
        with_binary_label(pd.DataFrame({"label": [0, 1, 2]}), "label")
    with pytest.raises(ValueError, match=r"holds \['bad'\]"):
        with_binary_label(pd.DataFrame({"label": ["bad", True]}), "label")


def test_credit_rows_come_from_the_feature_service_as_of_each_application(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = pd.DataFrame(
        {
            "application_id": ["A3", "A1", "A2", "A4"],
            "applicant_id": ["p2", "p1", "p1", "p3"],
            "applied_at": pd.to_datetime(
                ["2025-03-01 10:00", "2025-01-01 09:00", "2025-02-01 08:00", "2025-03-02 00:00"]
            ),
            "is_first_payment_default": [True, False, None, False],
        }
    )
    path = mart_path(settings, "loan_performance_labels")
    path.parent.mkdir(parents=True)
    labels.to_parquet(path, index=False)
    asked: dict[str, object] = {}

    def training_set(settings_: Settings, service: str, entity_df: pd.DataFrame) -> pa.Table:
        asked.update(service=service, entity_df=entity_df.copy())
        income = entity_df["applicant_id"].map({"p1": 100, "p2": 200, "p3": 300})
        return pa.Table.from_pandas(entity_df.assign(monthly_income_minor=income))

    monkeypatch.setattr("zhongtai.features.training.training_set", training_set)
    frame = load_frame(load_spec("credit_pd"), settings)

    assert asked["service"] == "credit_scoring_v1"
    entity_df = asked["entity_df"]
    assert isinstance(entity_df, pd.DataFrame)
    assert (entity_df["event_timestamp"] == entity_df["applied_at"]).all()
    assert entity_df["application_id"].tolist() == ["A1", "A3", "A4"]  # labelled, in time order
    assert list(frame.columns) == [
        "application_id",
        "applied_at",
        "monthly_income_minor",
        "is_first_payment_default",
    ]
    assert frame["monthly_income_minor"].tolist() == [100, 200, 300]
    assert frame["is_first_payment_default"].tolist() == [0, 1, 0]


def test_the_out_of_time_window_is_the_last_months() -> None:
    rows = credit_rows(500, seed=3, start="2025-01-01", days=365)
    development, out_of_time, cut = split_out_of_time(rows, "applied_at", 3)
    last = rows["applied_at"].max()
    assert cut == (last - pd.DateOffset(months=3)).normalize()
    assert cut.to_pydatetime() < datetime(2025, 10, 2)
    assert (development["applied_at"] < cut).all() and (out_of_time["applied_at"] >= cut).all()
    assert len(development) + len(out_of_time) == len(rows)
    with pytest.raises(ValueError, match="leaves 0 development"):
        split_out_of_time(rows, "applied_at", 24)


def test_cross_validation_folds_are_stratified_and_repeatable() -> None:
    rows = credit_rows(400, seed=5)
    folds = CrossValidationSpec(n_splits=5, n_repeats=2)
    first = list(cross_validation_splits(rows, "is_first_payment_default", folds, seed=42))
    again = list(cross_validation_splits(rows, "is_first_payment_default", folds, seed=42))
    assert len(first) == 10
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again, strict=True))
    rate = rows["is_first_payment_default"].mean()
    for _, test in first:
        assert abs(rows["is_first_payment_default"].iloc[test].mean() - rate) < 0.02
