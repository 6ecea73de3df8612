"""The knobs of the synthetic lender's world, and what identifies one chunk of it.

Each table of choices comes with the probabilities it is drawn with (`*_P`). A chunk is
named by its run's seed and delivery date and by the applicants it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from zhongtai.sources import identifiers as ids
from zhongtai.sources.calendar import HISTORY_MONTHS, add_months

EMPLOYMENT_TYPES = (
    "salaried", "self_employed", "civil_servant", "gig_worker", "student", "retired",
    "unemployed",
)  # fmt: skip
EMPLOYMENT_P = np.array([0.55, 0.16, 0.06, 0.13, 0.04, 0.03, 0.03])
INCOME_MEDIAN_CNY = np.array([7000.0, 9000.0, 8500.0, 5500.0, 1500.0, 4000.0, 1200.0])
INCOME_SIGMA = np.array([0.45, 0.7, 0.3, 0.4, 0.5, 0.35, 0.8])
EMPLOYMENT_RISK = np.array([0.0, 0.15, -0.6, 0.35, 0.5, -0.1, 0.8])

LOAN_PURPOSES = (
    "consumer_goods", "electronics", "travel", "education", "home_improvement", "medical",
    "wedding", "car_purchase", "small_business", "debt_consolidation",
)  # fmt: skip
PURPOSE_P = np.array([0.24, 0.16, 0.1, 0.08, 0.1, 0.06, 0.05, 0.06, 0.07, 0.08])
CHANNELS = ("app", "mini_program", "h5_web", "partner_api")
CHANNEL_P = np.array([0.45, 0.18, 0.12, 0.25])
PARTNERS = ("P001", "P002", "P003", "P004", "P005")
PARTNER_P = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
TERMS = np.array([3, 6, 9, 12, 18, 24, 36])
TERM_P = np.array([0.08, 0.18, 0.08, 0.34, 0.1, 0.14, 0.08])
INQUIRY_REASONS = (
    "loan_approval", "credit_card_approval", "post_loan_management", "guarantee_qualification",
)  # fmt: skip
N_LENDERS = 400
LENDER_P = 1.0 / np.arange(1, N_LENDERS + 1) ** 0.9
ANDROID_VERSIONS = ("10", "11", "12", "13", "14", "15")
ANDROID_P = np.array([0.08, 0.12, 0.18, 0.25, 0.25, 0.12])
IOS_VERSIONS = ("15.8", "16.7", "17.5", "17.6", "18.0", "18.1", "18.2")
IOS_P = np.array([0.05, 0.12, 0.15, 0.18, 0.15, 0.15, 0.2])

RING_APPLICANT_SHARE = 0.018  # ring members per applicant: 1.5% of applications
APPS_PER_PERSON_P = np.array([0.84, 0.12, 0.03, 0.01])  # 1..4 applications, mean 1.21
SHOPPER_P = np.array([0.7, 0.22, 0.08])  # light, moderate, heavy multi-lender shoppers
PRE_APPLICATION_INQUIRIES = np.array([0.7, 2.5, 8.0])  # mean per application, by shopper
APPROVAL_OFFSET = 1.2  # calibrated so the historical policy approves about 60%
DEFAULT_OFFSET = -2.45  # calibrated so about 10% of loans to non-fraudsters default
MAX_APR_BPS = 2400  # the 24% cap of Chinese courts on consumer credit
MIN_APR_BPS = 720


@dataclass(frozen=True)
class ChunkSpec:
    """Which applicants a chunk holds and the run they belong to."""

    seed: int
    delivery_date: date
    chunk_index: int
    first_applicant: int  # global index of the chunk's first applicant
    applicants: int

    @property
    def global_index(self) -> np.ndarray:
        return self.first_applicant + np.arange(self.applicants, dtype=np.int64)


def id_space(spec: ChunkSpec) -> ids.NationalIdSpace:
    """National IDs of people aged 18 at the start of the history to 70 at its end."""
    oldest = add_months(spec.delivery_date, -70 * 12)
    youngest = add_months(spec.delivery_date, -HISTORY_MONTHS - 18 * 12)
    return ids.national_id_space(oldest, youngest, spec.seed)
