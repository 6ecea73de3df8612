"""Modelling rows: read from the marts or a feature service, labelled, split in time."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from tests.ml.frames import credit_rows, german_credit_rows, write_german_credit_mart
from zhongtai.feature_tables import feature_table_path
from zhongtai.ml.data import (
    NoTrainingRows,
    cross_validation_splits,
    load_frame,
    split_for_validation,
    split_holdout,
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
    # a declared book never delivered: an empty mart, nothing to train on yet
    frame.head(0).to_parquet(mart_path(settings, "partner_portfolio_records"))
    with pytest.raises(NoTrainingRows, match="partner_portfolio_records holds no row with a"):
        load_frame(spec, settings)


def test_labels_become_0_or_1_and_unobserved_ones_are_left_out() -> None:
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "label": [True, None, False, True]})
    labelled = with_binary_label(frame, "label")
    assert labelled["id"].tolist() == [1, 3, 4] and labelled["label"].tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match=r"label 'label' holds \[2\], expected booleans or 0 / 1"):
        with_binary_label(pd.DataFrame({"label": [0, 1, 2]}), "label")
    with pytest.raises(ValueError, match=r"holds \['bad'\]"):
        with_binary_label(pd.DataFrame({"label": ["bad", True]}), "label")


def test_credit_rows_come_from_the_feature_service_as_of_each_application(
    feature_world: Settings,
) -> None:
    frame = load_frame(load_spec("credit_pd"), feature_world)

    labels = pd.read_parquet(mart_path(feature_world, "loan_performance_labels"))
    labelled = labels[labels["is_first_payment_default"].notna()]
    assert sorted(frame["application_id"]) == sorted(labelled["application_id"])
    assert frame["applied_at"].is_monotonic_increasing
    assert set(frame["is_first_payment_default"]) <= {0, 1}
    # each row holds the values of its own application, not the applicant's latest
    applications = pd.read_parquet(mart_path(feature_world, "application_features"))
    declared = applications.set_index("application_id")["monthly_income_minor"]
    assert (frame["monthly_income_minor"] == frame["application_id"].map(declared)).all()


GRAPH_FEATURES = {
    "ring_score",
    "component_size",
    "neighbour_count",
    "neighbour_default_share",
    "neighbour_blacklist_share",
}
JOIN_KEYS = {"applicant_id", "device_id", "ip_range"}


def test_fraud_rows_join_device_and_network_features_and_drop_the_keys(
    feature_world: Settings,
) -> None:
    spec = load_spec("fraud")
    frame = load_frame(spec, feature_world)

    candidates = spec.candidate_features(list(frame.columns))
    assert set(candidates) >= GRAPH_FEATURES
    assert JOIN_KEYS.isdisjoint(frame.columns)  # pseudonyms: never in the modelling rows
    assert "age_years" not in candidates  # the fairness attribute, for the report only
    assert frame[sorted(GRAPH_FEATURES)].notna().all().all()  # as of every application
    # velocity is keyed on the application's device and network: each row gets the count
    # of its own device's last hour (which includes itself)
    applications = pd.read_parquet(mart_path(feature_world, "application_features"))
    velocity = pd.read_parquet(feature_table_path(feature_world, "device_velocity"))
    expected = applications.merge(velocity, on=["device_id", "applied_at"]).drop_duplicates(
        "application_id"
    )
    by_application = expected.set_index("application_id")["device_applications_1h"]
    assert (frame["device_applications_1h"] == frame["application_id"].map(by_application)).all()
    assert (frame["ip_range_applications_1h"] >= 1).all()
    ages = applications.set_index("application_id")["age_years"]
    assert (frame["age_years"] == frame["application_id"].map(ages)).all()


def test_a_feature_the_service_does_not_serve_is_refused(feature_world: Settings) -> None:
    spec = load_spec("fraud")
    careless = spec.model_copy(
        update={"features": spec.features.model_copy(update={"exclude": []})}
    )
    refusal = r"fraud_detection_v1 does not serve age_years, .* add it to features\.exclude"
    with pytest.raises(ValueError, match=refusal):
        load_frame(careless, feature_world)


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


def test_a_book_without_dates_is_held_out_by_key_the_same_way_whatever_else_it_holds() -> None:
    rows = german_credit_rows()
    development, held_out = split_holdout(rows, "record_id", 0.3, seed=42)
    assert len(development) + len(held_out) == len(rows)
    assert set(development["record_id"]).isdisjoint(held_out["record_id"])
    assert 0.25 < len(held_out) / len(rows) < 0.35
    assert 0.2 < held_out["is_bad"].mean() < 0.4  # about the book's 30% bad
    # the same seed, the same side for every record; another seed, another holdout
    again = split_holdout(rows.sample(frac=1.0, random_state=1), "record_id", 0.3, seed=42)[1]
    assert set(again["record_id"]) == set(held_out["record_id"])
    other = split_holdout(rows, "record_id", 0.3, seed=7)[1]
    assert set(other["record_id"]) != set(held_out["record_id"])
    # the partner's next delivery adds records: none that was held out moves to development
    more = pd.concat([rows, rows.head(500).assign(record_id=lambda f: f["record_id"] + "-B")])
    grown_development, grown_held_out = split_holdout(more, "record_id", 0.3, seed=42)
    assert set(held_out["record_id"]) <= set(grown_held_out["record_id"])
    assert set(development["record_id"]) <= set(grown_development["record_id"])
    with pytest.raises(ValueError, match=r"record_id repeats \(\['GC-0001'\]\)"):
        split_holdout(pd.concat([rows, rows.head(1)]), "record_id", 0.3, seed=42)
    with pytest.raises(ValueError, match="leaves 0 development and 1 held-out rows"):
        split_holdout(rows.head(1), "record_id", 0.99, seed=42)


def test_each_spec_is_split_by_its_own_window() -> None:
    german = load_spec("german_credit")
    split = split_for_validation(german, german_credit_rows())
    assert split.window == "holdout" and split.name == "holdout"
    assert split.params == {"holdout.share": 0.3, "holdout.seed": 42}
    assert split.describe() == (
        f"{len(split.development):,} development rows outside the holdout of 30%, "
        f"{len(split.held_out):,} holdout"
    )
    credit = load_spec("credit_pd")
    rows = credit_rows(500, seed=3, start="2025-01-01", days=365)
    split = split_for_validation(credit, rows)
    development, out_of_time, cut = split_out_of_time(rows, "applied_at", 3)
    assert (split.window, split.name) == ("out_of_time", "out of time")
    assert split.params == {"out_of_time.cut": f"{cut:%Y-%m-%d}", "out_of_time.months": 3}
    assert split.development.equals(development) and split.held_out.equals(out_of_time)
    cv_only = german.model_copy(
        update={
            "promotion": None,
            "validation": german.validation.model_copy(update={"holdout": None}),
        }
    )
    with pytest.raises(ValueError, match="german_credit: no out-of-sample window"):
        split_for_validation(cv_only, german_credit_rows())
