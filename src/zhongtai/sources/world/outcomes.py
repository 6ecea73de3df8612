"""The lender's decisions, and the truth about which loans will default and when.

What drives default, in order of strength: prior defaults at this lender, debt-to-income,
shopping at many lenders just before applying, low income, precarious employment, youth,
borrowing in a festive period, and an unobserved personal factor (the noise a model cannot
explain). Fraud rings default on their first instalment whatever their declared profile.
"""

from __future__ import annotations

import numpy as np

from zhongtai.sources.calendar import Calendar, add_months_days, festive_at
from zhongtai.sources.encoding import SECONDS_PER_DAY
from zhongtai.sources.world.chunk import Applications, Outcomes, People
from zhongtai.sources.world.parameters import (
    APPROVAL_OFFSET,
    DEFAULT_OFFSET,
    EMPLOYMENT_RISK,
    MAX_APR_BPS,
    MIN_APR_BPS,
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def default_logit(
    apps: Applications,
    people: People,
    prior_default: np.ndarray,
    festive: np.ndarray,
    age_years: np.ndarray,
) -> np.ndarray:
    """Log-odds that a non-fraudulent borrower defaults: the signal models should learn."""
    income_cny = apps.income_minor / 100
    return (
        DEFAULT_OFFSET
        + 3.0 * (apps.dti - 0.25)
        - 0.55 * np.log(income_cny / 6000)
        + 0.5 * np.log1p(apps.n_inquiries_30d)
        + 0.35 * np.log1p(apps.n_inquiries_7d)
        + 1.3 * prior_default
        + EMPLOYMENT_RISK[people.employment[apps.person]]
        + 0.35 * (age_years < 23)
        + 0.4 * festive
        + 0.15 * np.log(apps.requested_minor / (apps.income_minor * 3))
        + people.latent_risk[apps.person]
    )


def _policy_score(apps: Applications, prior_default: np.ndarray) -> np.ndarray:
    """The lender's historical scorecard: sensible, but blind to rings and latent risk."""
    income_cny = apps.income_minor / 100
    return (
        APPROVAL_OFFSET
        - 2.8 * apps.dti
        + 0.7 * np.log(income_cny / 6000)
        - 0.45 * np.log1p(apps.n_inquiries_30d)
        - 0.3 * np.log1p(apps.n_inquiries_7d)
        - 2.0 * prior_default
    )


def _annuity(principal: np.ndarray, apr_bps: np.ndarray, term: np.ndarray) -> np.ndarray:
    """Equal monthly instalment (CNY fen, rounded up) of an amortising loan."""
    rate = apr_bps / 10_000 / 12
    return np.ceil(principal * rate / (1 - (1 + rate) ** (-term.astype(float)))).astype(np.int64)


def decide(rng: np.random.Generator, apps: Applications, people: People, cal: Calendar) -> Outcomes:
    """Approve, disburse, price, and decide (in truth) who will default and when.

    Applications are processed in the order of each person's history, so a default on an
    earlier loan is known (to the lender and to the truth) when the person applies again.
    """
    m = apps.count
    prior_default = np.zeros(m, dtype=bool)
    out = Outcomes(
        prior_default=prior_default,
        approved=np.zeros(m, dtype=bool),
        has_loan=np.zeros(m, dtype=bool),
        disbursed_s=np.zeros(m, dtype=np.int64),
        principal_minor=np.zeros(m, dtype=np.int64),
        apr_bps=np.zeros(m, dtype=np.int64),
        instalment_minor=np.zeros(m, dtype=np.int64),
        default_probability=np.zeros(m),
        will_default=np.zeros(m, dtype=bool),
        default_instalment=apps.term + 1,
    )
    first_default_day = np.full(people.ring.size, np.iinfo(np.int64).max)
    applied_day = apps.applied_s // SECONDS_PER_DAY
    festive = festive_at(cal, apps.applied_s)
    age = (applied_day - people.birth_day[apps.person]) / 365.25
    noise = rng.standard_normal(m)
    policy_noise = rng.standard_normal(m)
    delay = np.where(
        rng.random(m) < 0.6,
        rng.integers(300, 6 * 3600, m),
        rng.integers(SECONDS_PER_DAY, 3 * SECONDS_PER_DAY, m),
    )
    cut = rng.random(m) < 0.15
    cut_share = rng.uniform(0.5, 0.9, m)
    draw_default = rng.random(m)
    default_at = np.minimum(rng.geometric(0.25, m), apps.term)
    for rank in range(int(apps.rank.max()) + 1 if m else 0):
        sel = np.flatnonzero(apps.rank == rank)
        prior_default[sel] = first_default_day[apps.person[sel]] < applied_day[sel]
        score = _policy_score(_subset(apps, sel), prior_default[sel])
        approve = np.where(
            apps.is_ring[sel],
            rng.random(sel.size) < 0.8,
            score + 0.9 * policy_noise[sel] > 0,
        )
        out.approved[sel] = approve
        disbursed = apps.applied_s[sel] + delay[sel]
        out.has_loan[sel] = approve & (disbursed < cal.cutoff_s)
        out.disbursed_s[sel] = disbursed
        logit = default_logit(
            _subset(apps, sel), people, prior_default[sel], festive[sel], age[sel]
        )
        probability = np.where(apps.is_ring[sel], 1.0, _sigmoid(logit))
        out.default_probability[sel] = probability
        will_default = draw_default[sel] < probability
        out.will_default[sel] = will_default
        out.default_instalment[sel] = np.where(
            apps.is_ring[sel], 1, np.where(will_default, default_at[sel], apps.term[sel] + 1)
        )
        defaulted = sel[out.has_loan[sel] & will_default]
        missed_day = add_months_days(
            out.disbursed_s[defaulted] // SECONDS_PER_DAY, out.default_instalment[defaulted]
        )
        np.minimum.at(first_default_day, apps.person[defaulted], missed_day)
        apr = 1500 - 350 * (score - APPROVAL_OFFSET) + 100 * noise[sel]
        out.apr_bps[sel] = np.clip(np.round(apr, -1), MIN_APR_BPS, MAX_APR_BPS).astype(np.int64)
    requested = apps.requested_minor
    principal = np.where(cut, np.round(requested * cut_share, -4), requested).astype(np.int64)
    out.principal_minor[:] = np.where(out.has_loan, principal, 0)
    out.instalment_minor[:] = np.where(
        out.has_loan, _annuity(out.principal_minor, out.apr_bps, apps.term), 0
    )
    return out


def _subset(apps: Applications, sel: np.ndarray) -> Applications:
    """The applications at positions `sel` (array fields only)."""
    fields = {}
    for name, value in vars(apps).items():
        fields[name] = value[sel] if isinstance(value, np.ndarray) else value
    return Applications(**fields)
