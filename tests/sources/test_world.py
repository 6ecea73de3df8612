"""The planted patterns: fraud rings, default drivers, seasonality (checked against the truth)."""

from __future__ import annotations

import pandas as pd
import pytest

from zhongtai.sources.generator import ChunkTables


@pytest.fixture(scope="module")
def applications(big_chunk: ChunkTables) -> pd.DataFrame:
    """Applications joined with their truth and, where funded, their loan."""
    apps = big_chunk.tables["applications"].to_pandas()
    truth = big_chunk.truth.to_pandas().drop(columns="national_id")
    loans = big_chunk.tables["loans"].to_pandas()[["loan_id", "application_id"]]
    return apps.merge(truth, on="application_id").merge(loans, on="application_id", how="left")


def _first_payment_default(big_chunk: ChunkTables) -> pd.DataFrame:
    """Loans whose first instalment is 30+ days overdue and was not paid in full by then."""
    rep = big_chunk.tables["repayments"].to_pandas()
    first = rep[rep.instalment_number == 1].copy()
    due = pd.to_datetime(first.due_date)
    first = first[due < pd.Timestamp("2025-06-01") - pd.Timedelta(days=31)]
    paid = pd.to_datetime(first.paid_at).dt.tz_localize(None)
    late = (paid - pd.to_datetime(first.due_date)).dt.days > 30
    first["fpd30"] = (first.amount_paid_minor < first.amount_due_minor) | late
    return first[["loan_id", "fpd30"]]


def test_fraud_rings_are_1_to_2_percent_of_applications(applications: pd.DataFrame) -> None:
    assert 0.01 <= applications.is_fraud_ring.mean() <= 0.02


def test_ring_members_share_devices_phones_and_a_network_in_a_burst(
    applications: pd.DataFrame,
) -> None:
    rings = applications[applications.is_fraud_ring].groupby("ring_id")
    size = rings.size()
    assert size.between(5, 30).all()
    assert (rings.device_id.nunique() <= 4).all()
    assert (rings.phone.nunique() <= 3).all()
    assert (rings.ip_address.agg(lambda s: s.str.rsplit(".", n=1).str[0].nunique()) == 1).all()
    applied = rings.applied_at.agg(lambda s: pd.to_datetime(s).max() - pd.to_datetime(s).min())
    assert (applied <= pd.Timedelta(days=5)).all()
    outsiders = applications[~applications.is_fraud_ring]
    assert outsiders.groupby("phone").national_id.nunique().max() == 1


def test_ring_devices_are_emulated_or_rooted_far_more_often(
    big_chunk: ChunkTables, applications: pd.DataFrame
) -> None:
    events = big_chunk.tables["device_events"].to_pandas()
    ring_devices = set(applications[applications.is_fraud_ring].device_id)
    flagged = events.is_emulator | events.is_rooted
    in_ring = events.device_id.isin(ring_devices)
    assert flagged[in_ring].mean() > 5 * flagged[~in_ring].mean()


def test_rings_default_on_the_first_payment_far_above_the_base_rate(
    big_chunk: ChunkTables, applications: pd.DataFrame
) -> None:
    fpd = _first_payment_default(big_chunk).merge(applications, on="loan_id")
    ring_rate = fpd[fpd.is_fraud_ring].fpd30.mean()
    base_rate = fpd[~fpd.is_fraud_ring].fpd30.mean()
    assert ring_rate > 0.95
    assert base_rate < 0.1


def test_default_rises_with_debt_to_income(applications: pd.DataFrame) -> None:
    funded = applications[applications.has_loan & ~applications.is_fraud_ring]
    dti = funded.monthly_debt_payment_minor / funded.monthly_income_minor
    by_quartile = funded.will_default.groupby(pd.qcut(dti.rank(method="first"), 4), observed=True)
    rates = by_quartile.mean().tolist()
    # the lower half is mostly people with little or no debt: alike, so only the top is ordered
    assert rates[3] > rates[2] > max(rates[:2])
    assert rates[3] > 1.5 * rates[0]


def test_default_rises_with_multi_lender_shopping(applications: pd.DataFrame) -> None:
    funded = applications[applications.has_loan & ~applications.is_fraud_ring]
    rare = funded[funded.n_inquiries_30d == 0].will_default.mean()
    heavy = funded[funded.n_inquiries_30d >= 5].will_default.mean()
    assert heavy > 2 * rare


def test_prior_defaulters_default_more(applications: pd.DataFrame) -> None:
    funded = applications[applications.has_loan & ~applications.is_fraud_ring]
    assert funded.prior_default.sum() >= 10
    prior = funded[funded.prior_default].default_probability.mean()
    assert prior > 1.5 * funded[~funded.prior_default].default_probability.mean()


def test_bureau_inquiries_cluster_before_shoppers_apply(
    big_chunk: ChunkTables, applications: pd.DataFrame
) -> None:
    inquiries = big_chunk.tables["bureau_inquiries"].to_pandas()
    lenders = inquiries.groupby("national_id").lender_id.nunique()
    assert inquiries.lender_id.str.fullmatch(r"L\d{4}").all()
    assert lenders.max() >= 10
    assert (applications.n_inquiries_7d <= applications.n_inquiries_30d).all()
    assert (applications.n_inquiries_30d <= applications.n_inquiries_90d).all()


def test_application_volume_peaks_before_spring_festival_and_on_double_11(
    applications: pd.DataFrame,
) -> None:
    month = applications.applied_at.str[:7].value_counts()
    assert month["2024-11"] > 1.15 * month["2024-10"]
    assert month["2025-01"] > 1.15 * month["2024-12"]


def test_blacklist_holds_ring_members_and_defaulters(
    big_chunk: ChunkTables, applications: pd.DataFrame
) -> None:
    lists = big_chunk.tables["lists"].to_pandas()
    black_ids = set(lists[lists.list_type == "black"].national_id.dropna())
    ring_ids = set(applications[applications.is_fraud_ring].national_id)
    others = set(applications[~applications.is_fraud_ring].national_id)
    assert len(ring_ids & black_ids) / len(ring_ids) > 0.5
    assert len(others & black_ids) / len(others) < 0.1
    assert set(lists.reason) >= {"fraud_ring", "default_m3_plus", "good_repeat_customer"}
