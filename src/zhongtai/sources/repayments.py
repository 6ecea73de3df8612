"""Loan performance: one row per instalment due before the delivery date.

Good borrowers pay on or a few days before the due date; some pay 1-60 days late with a
late fee and cure; defaulters stop paying from their default instalment on (a quarter of
them pay part of it first); fraud-ring loans pay nothing at all. A payment that would
happen on or after the cut-off has not happened yet, so it is written as unpaid, with the
late fee accrued so far.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from zhongtai.sources.calendar import add_months_days, utc_second_of_day
from zhongtai.sources.encoding import (
    SECONDS_PER_DAY,
    dates,
    digit_matrix,
    fixed_width,
    iso_utc_or_null,
    join,
)
from zhongtai.sources.world.chunk import Chunk

LATE_FEE_PER_DAY = 0.0005  # 0.05% of the instalment per day overdue
MAX_LATE_FEE_SHARE = 0.25  # fees stop accruing at a quarter of the instalment


@dataclass(frozen=True)
class Instalments:
    """Per instalment row: what was due and paid, for the table and for list building."""

    loan: np.ndarray  # position among the chunk's loans
    number: np.ndarray
    due_day: np.ndarray
    amount_due: np.ndarray
    fee: np.ndarray
    amount_paid: np.ndarray
    paid_s: np.ndarray
    is_paid: np.ndarray  # a payment (full or partial) happened before the cut-off
    days_late: np.ndarray  # of full payments; 0 when on time or unpaid


def simulate_instalments(rng: np.random.Generator, chunk: Chunk) -> Instalments:
    """Schedule every loan's instalments and play out how each borrower pays them."""
    apps, out, cal = chunk.apps, chunk.outcomes, chunk.cal
    loan_app = np.flatnonzero(out.has_loan)
    term = apps.term[loan_app]
    row_loan = np.repeat(np.arange(loan_app.size), term)
    number = np.arange(row_loan.size) - np.repeat(np.cumsum(term) - term, term) + 1
    disbursed_day = out.disbursed_s[loan_app] // SECONDS_PER_DAY
    due_day = add_months_days(disbursed_day[row_loan], number)
    due = due_day < cal.cutoff_day
    row_loan, number, due_day = row_loan[due], number[due], due_day[due]
    r = row_loan.size
    row_app = loan_app[row_loan]

    amount_due = out.instalment_minor[row_app]
    missed = number >= out.default_instalment[row_app]
    late_propensity = np.clip(0.03 + 0.6 * out.default_probability[row_app], 0.0, 0.5)
    late = ~missed & (rng.random(r) < late_propensity)
    days_late = np.where(late, np.minimum(60, rng.geometric(0.12, r)), 0)
    days_early = np.where(rng.random(r) < 0.4, rng.integers(1, 4, r), 0)
    pay_day = np.where(late, due_day + days_late, due_day - days_early)
    partial = (
        missed
        & (number == out.default_instalment[row_app])
        & ~apps.is_ring[row_app]
        & (rng.random(r) < 0.25)
    )
    pay_day = np.where(partial, due_day + rng.integers(1, 21, r), pay_day)
    paid_s = pay_day * SECONDS_PER_DAY + utc_second_of_day(rng, r)
    is_paid = (~missed | partial) & (paid_s < cal.cutoff_s)

    overdue_now = np.maximum(0, cal.cutoff_day - 1 - due_day)
    fee_days = np.where(is_paid & ~partial, days_late, overdue_now)
    fee = np.minimum(
        np.round(amount_due * LATE_FEE_PER_DAY * fee_days),
        np.floor(amount_due * MAX_LATE_FEE_SHARE),
    ).astype(np.int64)
    partial_paid = np.round(amount_due * rng.uniform(0.1, 0.5, r)).astype(np.int64)
    amount_paid = np.where(is_paid, np.where(partial, partial_paid, amount_due + fee), 0)
    return Instalments(
        loan=row_loan,
        number=number,
        due_day=due_day,
        amount_due=amount_due,
        fee=fee,
        amount_paid=amount_paid,
        paid_s=paid_s,
        is_paid=is_paid,
        days_late=np.where(is_paid & ~partial, days_late, 0),
    )


def repayments_table(instalments: Instalments, loan_id: pa.Array) -> pa.Table:
    """The repayments source: instalment ids are the loan id and a 3-digit number."""
    loan = loan_id.take(pa.array(instalments.loan))
    number = fixed_width([digit_matrix(instalments.number, 3)], instalments.number.size)
    return pa.table(
        {
            "instalment_id": join(loan, "-", number),
            "loan_id": loan,
            "instalment_number": instalments.number,
            "due_date": dates(instalments.due_day),
            "amount_due_minor": instalments.amount_due,
            "fee_minor": instalments.fee,
            "amount_paid_minor": instalments.amount_paid,
            "paid_at": iso_utc_or_null(instalments.paid_s, instalments.is_paid),
        }
    )
