"""One credit decision: identifiers pseudonymised, features assembled, models, policy.

The features of a decision come from two places:

- the application in the request (what the applicant declares now: income, amount,
  term, purpose...), computed as the warehouse computes them (debt-to-income), except the
  age, which comes from the national ID on the platform's day, never the partner's word;
- the online store, for what the platform knows of the applicant, device and network as
  of their last application (credit history, multi-lender index, device risk, graph,
  list hits, one-hour velocity). An applicant it has never seen reads as missing
  values, which the models score as they learnt to.

Reason codes are the features that cost the applicant most points in the champion
credit model (the scorecard's bins or LightGBM's contributions), preceded by the policy's
own reasons when a hard rule decided, and the fraud model's when fraud did.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from zhongtai.decision.champions import CREDIT, FRAUD, Champions, Family
from zhongtai.decision.policy import MAX_REASONS, Policy, PolicyDecision, PolicyInputs
from zhongtai.decision.schemas import (
    CONSENTS,
    MAX_AGE_YEARS,
    DecisionOut,
    DecisionRequest,
    Reason,
)
from zhongtai.landing.coarsen import region_code
from zhongtai.ml.scaling import pd_to_points
from zhongtai.privacy.identity import MIN_AGE_YEARS, InvalidNationalId, age_on, read_national_id
from zhongtai.privacy.pseudonyms import pseudonymise_one

if TYPE_CHECKING:
    from feast import FeatureStore, FeatureView, ValueType

# What the online store holds for a decision, by view (the application itself comes
# from the request). Velocity times are internal to the push: not features.
ONLINE_VIEWS = (
    "credit_history",
    "multi_lender_index",
    "device_risk_index",
    "social_relationship_index",
    "list_hits",
    "device_velocity",
    "ip_range_velocity",
)
FRAUD_RULE_PREFIX = "fraud."


@dataclass(frozen=True)
class Subject:
    """The applicant as the platform knows them: pseudonymous keys only."""

    applicant_id: str
    device_id: str
    ip_range: str
    age_years: int

    @property
    def entity(self) -> dict[str, str]:
        return {
            "applicant_id": self.applicant_id,
            "device_id": self.device_id,
            "ip_range": self.ip_range,
        }


class ApplicantRefused(ValueError):
    """The applicant cannot be decided on (a minor, an ID dated after ``today``): the
    message names the field and why, never its value."""


def subject_of(request: DecisionRequest, pseudonym_key: bytes, today: date) -> Subject:
    """Pseudonymise at the edge: the national id becomes the applicant's pseudonym (as at
    landing), the IP address its /24 range (as in the warehouse). The age is the ID's on
    ``today`` (the platform's clock); minors are refused with :class:`ApplicantRefused`."""
    applicant = request.applicant
    try:
        born = read_national_id(applicant.national_id, today=today).birth_date
    except InvalidNationalId as error:
        raise ApplicantRefused(f"applicant.national_id: {error}") from None
    age = age_on(born, today)
    if age < MIN_AGE_YEARS:
        raise ApplicantRefused(
            f"applicant.national_id: the applicant is under {MIN_AGE_YEARS} on {today} "
            "(age from the national ID): minors are refused"
        )
    if age > MAX_AGE_YEARS:
        raise ApplicantRefused(
            f"applicant.national_id: a birth date more than {MAX_AGE_YEARS} years ago"
        )
    applicant_id = pseudonymise_one(applicant.national_id, kind="national_id", key=pseudonym_key)
    assert applicant_id is not None  # the schema requires a national id
    first_three = str(applicant.ip_address).rsplit(".", 1)[0]
    return Subject(applicant_id, applicant.device_id, f"{first_three}.0/24", age)


class OnlineFeatures:
    """Reads a decision's features of the online store: one read per view, by its key.

    Feast's ``get_online_features`` resolves references, groups views and builds a
    response protobuf on every call: milliseconds a decision. The views and their keys
    are resolved once here and each view is read through the provider's ``online_read``,
    which ``get_online_features`` calls underneath; the values are converted as its
    ``to_dict`` converts them (a test checks the two agree). Views are read as registered
    at start-up: a changed definition (``features build``) takes a restart.
    """

    def __init__(self, store: FeatureStore) -> None:
        self.store = store
        self._provider = store._get_provider()
        self._views: list[_ViewRead] = []
        self._key_types: dict[str, ValueType] = {}
        for name in ONLINE_VIEWS:
            view = store.get_feature_view(name)
            (key,) = view.entity_columns  # every decision view has one join key
            features = [f for f in view.features if not f.name.endswith("_times_1h")]
            self._key_types[key.name] = key.dtype.to_value_type()
            self._views.append(
                _ViewRead(
                    view=view,
                    join_key=key.name,
                    names=[f.name for f in features],
                    types={f.name: f.dtype.to_value_type() for f in features},
                )
            )

    @property
    def references(self) -> list[str]:
        """The features read, as ``view:feature`` references."""
        return [f"{read.view.name}:{name}" for read in self._views for name in read.names]

    def read(self, subject: Subject) -> dict[str, Any]:
        from feast.protos.feast.types.EntityKey_pb2 import EntityKey
        from feast.type_map import feast_value_type_to_python_type, python_values_to_proto_values

        keys = {}  # each key once, though several views share it
        for join_key, value_type in self._key_types.items():
            (proto,) = python_values_to_proto_values([subject.entity[join_key]], value_type)
            keys[join_key] = EntityKey(join_keys=[join_key], entity_values=[proto])
        features: dict[str, Any] = {}
        for read in self._views:
            key = keys[read.join_key]
            ((_, values),) = self._provider.online_read(
                self.store.config, read.view, [key], read.names
            )
            found = values or {}
            for name in read.names:
                value = found.get(name)
                features[name] = (
                    None
                    if value is None
                    else feast_value_type_to_python_type(value, read.types[name])
                )
        return features


@dataclass(frozen=True)
class _ViewRead:
    view: FeatureView
    join_key: str
    names: list[str]
    types: dict[str, ValueType]


def application_features(
    request: DecisionRequest, subject: Subject, partner_id: str
) -> dict[str, Any]:
    """The application's own features, named and computed as in the warehouse: the
    division code coarsened to its region as landing coarsens it."""
    application = request.application
    income = application.monthly_income_minor
    return {
        "age_years": subject.age_years,
        "city_code": region_code(application.city_code),
        "employment_type": application.employment_type,
        "monthly_income_minor": income,
        "monthly_debt_payment_minor": application.monthly_debt_payment_minor,
        "debt_to_income_ratio": application.monthly_debt_payment_minor / income if income else None,
        "requested_amount_minor": application.requested_amount_minor,
        "term_months": application.term_months,
        "loan_purpose": application.loan_purpose,
        "channel": application.channel,
        "partner_id": partner_id,
        **{f"has_consented_{purpose}": purpose in request.consents for purpose in CONSENTS},
    }


@dataclass(frozen=True)
class Decision:
    """A decision, what it was made on, and its answer to the partner."""

    answer: DecisionOut
    subject: Subject
    features: dict[str, Any]
    policy: PolicyDecision


def decide(
    request: DecisionRequest,
    subject: Subject,
    features: dict[str, Any],
    champions: Champions,
    policy: Policy,
) -> Decision:
    """Score the application with both champions and let the policy decide."""
    credit, fraud = champions.credit.model, champions.fraud.model
    probability_of_default = credit.predict_pd_one(features)
    points = float(pd_to_points(probability_of_default, credit.scaling))
    fraud_probability = fraud.predict_pd_one(features)
    application = request.application
    verdict = policy.decide(
        PolicyInputs(
            age_years=subject.age_years,
            is_blacklisted=_flag(features.get("is_blacklisted")),
            is_greylisted=_flag(features.get("is_greylisted")),
            is_whitelisted=_flag(features.get("is_whitelisted")),
            credit_points=points,
            probability_of_default=probability_of_default,
            fraud_probability=fraud_probability,
            fraud_review_threshold=float(fraud.metadata["review_threshold"]),
            requested_amount_minor=application.requested_amount_minor,
            monthly_income_minor=application.monthly_income_minor,
            term_months=application.term_months,
        )
    )
    reasons = [
        Reason(code=r["code"], source="policy", message=r["message"])
        for r in verdict.policy_reasons
    ]
    if any(rule.startswith(FRAUD_RULE_PREFIX) for rule in verdict.fired):
        reasons += _model_reasons(fraud.reasons_one(features, limit=MAX_REASONS), FRAUD)
    reasons += _model_reasons(credit.reasons_one(features, limit=MAX_REASONS), CREDIT)
    answer = DecisionOut(
        decision_id=uuid.uuid4().hex,
        outcome=verdict.outcome,
        credit_limit_minor=verdict.credit_limit_minor,
        apr=verdict.apr,
        credit_score=round(points, 1),
        probability_of_default=round(probability_of_default, 6),
        fraud_score=round(fraud_probability, 6),
        reasons=reasons[:MAX_REASONS],
        model_versions=champions.versions,
        rules_version=verdict.rules_version,
        decided_at=datetime.now(UTC),
    )
    return Decision(answer, subject, features, verdict)


def _flag(value: Any) -> bool | None:
    """A list hit as the policy reads it: unknown (None) unless a plain yes or no."""
    return bool(value) if isinstance(value, bool | int) else None


def _model_reasons(found: list[dict[str, Any]], source: Family) -> list[Reason]:
    return [
        Reason(
            code=reason["feature"].upper(),
            feature=reason["feature"],
            points_lost=round(float(reason["points_lost"]), 1),
            source=source,
        )
        for reason in found
        if math.isfinite(reason["points_lost"])
    ]
