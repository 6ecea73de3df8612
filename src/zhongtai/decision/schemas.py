"""A decision's request and answer: strict JSON schemas (and so the OpenAPI document).

Every request model refuses unknown fields and wrong types (no coercion of "12" into
12), and bounds every string and number, so a malformed request gets a 422 naming the
field instead of reaching a model. Identifiers arrive in clear only here: the decision
route pseudonymises them at once and nothing downstream sees or stores them.
"""

from __future__ import annotations

from datetime import date, datetime
from ipaddress import IPv4Address
from typing import Literal, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from zhongtai.decision.policy import MAX_REASONS, Outcome
from zhongtai.privacy.identity import read_national_id

Purpose = Literal["credit_scoring", "fraud_prevention"]
Family = Literal["credit_pd", "fraud"]  # the model families a decision scores with
CONSENTS: tuple[Purpose, ...] = get_args(Purpose)  # what a decision asks consent for

MAX_AMOUNT_MINOR = 10_000_000_00  # 10 million CNY, in fen
MAX_AGE_YEARS = 120


class _Request(BaseModel):
    # Numbers and strings are strict (no "12" for 12); dates and addresses parse from text.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApplicantIn(_Request):
    """The applicant's identifiers, in clear; pseudonymised at the edge, never stored."""

    national_id: StrictStr = Field(
        pattern=r"^[0-9]{17}[0-9Xx]$", description="Resident identity card number (18 characters)."
    )
    phone: StrictStr = Field(pattern=r"^\+?[0-9]{6,15}$", description="Mobile number.")
    birth_date: date = Field(
        description="As declared; must be the birth date the national ID states (the age "
        "rules use the ID's)."
    )
    device_id: StrictStr = Field(
        min_length=1, max_length=128, description="The SDK install id (never a hardware id)."
    )
    ip_address: IPv4Address = Field(description="Where the application came from.")

    @field_validator("national_id")
    @classmethod
    def _a_valid_id(cls, national_id: str) -> str:
        read_national_id(national_id, today=date.max)  # the clock's checks: subject_of
        return national_id

    @model_validator(mode="after")
    def _birth_date_agrees_with_the_id(self) -> Self:
        if read_national_id(self.national_id, today=date.max).birth_date != self.birth_date:
            raise ValueError(
                "birth_date disagrees with the birth date the national_id states: the "
                "platform decides on the ID's"
            )
        return self


class ApplicationIn(_Request):
    """The loan applied for and what the applicant declares."""

    requested_amount_minor: StrictInt = Field(gt=0, le=MAX_AMOUNT_MINOR, description="In fen.")
    term_months: StrictInt = Field(ge=1, le=60)
    loan_purpose: StrictStr = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")
    channel: StrictStr = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    employment_type: StrictStr = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")
    city_code: StrictStr = Field(pattern=r"^[0-9]{6}$")
    monthly_income_minor: StrictInt = Field(ge=0, le=MAX_AMOUNT_MINOR, description="In fen.")
    monthly_debt_payment_minor: StrictInt = Field(ge=0, le=MAX_AMOUNT_MINOR, description="In fen.")


class DecisionRequest(_Request):
    applicant: ApplicantIn
    application: ApplicationIn
    consents: list[Purpose] = Field(
        max_length=2,
        description="The purposes the applicant consented to; credit_scoring is required "
        "for a decision, fraud_prevention for the fraud checks it relies on.",
    )


class Reason(BaseModel):
    """One reason code, ranked: a policy rule that decided (with what the applicant may
    be told), or a feature that cost the applicant points in a model."""

    code: str
    source: Literal["policy", Family]
    message: str | None = None
    feature: str | None = None
    points_lost: float | None = None


class DecisionOut(BaseModel):
    decision_id: str
    outcome: Outcome
    credit_limit_minor: int
    apr: float = Field(description="Annual percentage rate, 0.18 for 18%; never above the cap.")
    credit_score: float = Field(description="Points: 600 at odds 50:1, 20 more double them.")
    probability_of_default: float
    fraud_score: float = Field(description="Probability that the application is fraudulent.")
    reasons: list[Reason] = Field(max_length=MAX_REASONS)
    model_versions: dict[str, str]
    rules_version: str
    decided_at: datetime


class ReviewRequest(_Request):
    reason: StrictStr = Field(
        min_length=1,
        max_length=500,
        description="Why the applicant asks for a person; no personal data (IDs, phone "
        "numbers, cards, e-mail addresses): a reason holding any is refused.",
    )

    @field_validator("reason")
    @classmethod
    def _no_personal_data(cls, reason: str) -> str:
        from zhongtai.privacy.scan import personal_data_in

        found = personal_data_in(reason)
        if found:
            raise ValueError(
                f"holds personal data ({', '.join(sorted(found))}): describe the request without it"
            )
        return reason


class ReviewOut(BaseModel):
    decision_id: str
    status: Literal["queued"]
    requested_at: datetime
