"""One simulated chunk written as source tables: applications, loans, and the truth.

The other sources are drawn from the chunk by their own modules (`repayments`, `events`,
`lists`); bureau inquiries are built during the simulation.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from zhongtai.sources import identifiers as ids
from zhongtai.sources.encoding import (
    dates,
    digit_matrix,
    fixed_width,
    id_width,
    iso_utc,
    pick,
    sequential_ids,
    with_nulls,
)
from zhongtai.sources.world.chunk import Chunk
from zhongtai.sources.world.parameters import CHANNELS, EMPLOYMENT_TYPES, LOAN_PURPOSES, PARTNERS


def application_ids(chunk: Chunk) -> pa.Array:
    """Application ids: chunk index and the application's position in time."""
    return sequential_ids("APP", chunk.spec.chunk_index, np.arange(chunk.apps.count))


def applications_table(chunk: Chunk, application_id: pa.Array) -> pa.Table:
    """The applications source, in contract order."""
    apps, people = chunk.apps, chunk.people
    person = pa.array(apps.person)
    area_code = np.array([a.code for a in ids.AREAS], dtype=np.int64)
    city_code = area_code[people.area_index[apps.person]] // 100 * 100
    return pa.table(
        {
            "application_id": application_id,
            "applied_at": iso_utc(apps.applied_s),
            "national_id": people.national_id.take(person),
            "name": people.name.take(person),
            "phone": people.phone.take(person),
            "residential_address": people.address.take(person),
            "birth_date": dates(people.birth_day[apps.person]),
            "city_code": fixed_width([digit_matrix(city_code, 6)], apps.count),
            "employment_type": pick(EMPLOYMENT_TYPES, people.employment[apps.person]),
            "monthly_income_minor": apps.income_minor,
            "monthly_debt_payment_minor": apps.debt_minor,
            "requested_amount_minor": apps.requested_minor,
            "term_months": apps.term,
            "loan_purpose": pick(LOAN_PURPOSES, apps.purpose),
            "channel": pick(CHANNELS, apps.channel),
            "partner_id": with_nulls(
                pick(PARTNERS, np.maximum(apps.partner, 0)), apps.partner >= 0
            ),
            "device_id": chunk.devices.device_id.take(pa.array(apps.device)),
            "ip_address": ids.ip_text(apps.subnet, apps.host),
            "has_consented_credit_scoring": apps.consents_credit,
            "has_consented_fraud_prevention": apps.consents_fraud,
            "has_consented_marketing": people.consents_marketing[apps.person],
        }
    )


def loans_table(chunk: Chunk, application_id: pa.Array, loan_id: pa.Array) -> pa.Table:
    """The loans source: one row per disbursed loan, id derived from its application."""
    out, apps = chunk.outcomes, chunk.apps
    loan = np.flatnonzero(out.has_loan)
    return pa.table(
        {
            "loan_id": loan_id,
            "application_id": application_id.take(pa.array(loan)),
            "disbursed_at": iso_utc(out.disbursed_s[loan]),
            "principal_minor": out.principal_minor[loan],
            "term_months": apps.term[loan],
            "apr_bps": out.apr_bps[loan],
            "instalment_amount_minor": out.instalment_minor[loan],
        }
    )


def loan_ids(chunk: Chunk) -> pa.Array:
    """Loan ids share the application's number: LN00003-0001234 funds APP00003-0001234."""
    width = id_width(chunk.apps.count)
    loans = np.flatnonzero(chunk.outcomes.has_loan)
    return sequential_ids("LN", chunk.spec.chunk_index, loans, width)


def truth_table(chunk: Chunk, application_id: pa.Array) -> pa.Table:
    """Ground truth per application, for tests and benchmarks; never written to the inbox."""
    apps, out, people = chunk.apps, chunk.outcomes, chunk.people
    return pa.table(
        {
            "application_id": application_id,
            "national_id": people.national_id.take(pa.array(apps.person)),
            "applicant_index": chunk.spec.first_applicant + apps.person,
            "application_rank": apps.rank,
            "is_fraud_ring": apps.is_ring,
            "ring_id": apps.ring,
            "debt_to_income": apps.dti,
            "n_inquiries_7d": apps.n_inquiries_7d,
            "n_inquiries_30d": apps.n_inquiries_30d,
            "n_inquiries_90d": apps.n_inquiries_90d,
            "prior_default": out.prior_default,
            "approved": out.approved,
            "has_loan": out.has_loan,
            "default_probability": out.default_probability,
            "will_default": out.will_default,
            "default_instalment": out.default_instalment,
            "latent_risk": people.latent_risk[apps.person],
        }
    )
