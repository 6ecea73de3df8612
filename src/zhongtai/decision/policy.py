"""The decision policy: a scored application in; approve, review or decline out.

The rules live in ``policy/decision_rules.yml``, a file a credit-risk officer edits and
versions. ``load_policy`` reads it as strict, frozen models: an unknown key or a wrong
value is refused with the file and the dotted field, so a misspelt threshold can never be
silently ignored. ``Policy.decide`` runs on every API request, so it is pure and small:
plain comparisons on plain values, no I/O, microseconds.

Missing inputs never approve silently: an unknown age or an unanswered list check sends
the application to review, and a probability or score that is not a number is refused
(``ValueError``) before any rule runs.

The order of evaluation is the policy's precedence: eligibility (age, term), lists
(blacklist, whitelist, greylist), fraud, credit grade, limit. The first decline decides
alone; reviews add up, unless a later rule declines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from zhongtai.settings import Settings
from zhongtai.yaml_models import read_yaml_model

DECISION_RULES_FILE = "decision_rules.yml"  # in the project's policy/ folder

Outcome = Literal["approve", "review", "decline"]
MAX_REASONS = 4  # adverse-action notices give the principal reasons, not every one


class PolicyError(ValueError):
    """A rules file that cannot be used: the message names the file and the field."""


class Rule(NamedTuple):
    """A rule that can decide an outcome, and what the applicant may be told about it."""

    id: str
    code: str
    message: str


AGE_UNKNOWN = Rule("age.unknown", "AGE_UNKNOWN", "We could not confirm your age.")
AGE_BELOW_MINIMUM = Rule(
    "age.minimum", "AGE_BELOW_MINIMUM", "You are below the minimum age for this loan."
)
AGE_ABOVE_MAXIMUM = Rule(
    "age.maximum", "AGE_ABOVE_MAXIMUM", "You are above the maximum age for this loan."
)
TERM_NOT_OFFERED = Rule(
    "term.range", "TERM_NOT_OFFERED", "The requested repayment term is not offered."
)
BLACKLISTED = Rule(
    "lists.blacklist",
    "BLACKLISTED",
    "A record found in a check we are required to make prevents us from lending.",
)
BLACKLIST_UNKNOWN = Rule(
    "lists.blacklist_unknown",
    "LIST_CHECK_UNAVAILABLE",
    "We could not complete a required record check; your application will be reviewed.",
)
GREYLISTED = Rule(
    "lists.greylist",
    "GREYLISTED",
    "A record found in a check we make needs a manual review of your application.",
)
GREYLIST_UNKNOWN = BLACKLIST_UNKNOWN._replace(id="lists.greylist_unknown")
FRAUD_DECLINE = Rule(
    "fraud.decline", "FRAUD_DECLINE", "We could not verify the information in your application."
)
FRAUD_REVIEW = Rule(
    "fraud.review", "FRAUD_REVIEW", "We need to verify some details of your application."
)
GRADE_DECLINE = Rule(
    "grade.decline", "GRADE_DECLINE", "Your credit score is below our minimum for this loan."
)
LIMIT_BELOW_MINIMUM = Rule(
    "limit.minimum",
    "LIMIT_BELOW_MINIMUM",
    "The amount we could lend, given the amount requested and your income, is below our "
    "minimum loan.",
)

# Fired without a reason to tell: they shape an approval rather than hold one back.
WHITELIST_FAST_LANE = Rule("lists.whitelist", code="", message="")
LIMIT_REQUESTED = "limit.requested"
LIMIT_GRADE_MAXIMUM = "limit.grade_maximum"
LIMIT_INCOME_MULTIPLE = "limit.income_multiple"


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    """One scored application, as the policy reads it. ``None``: unknown.

    Construction refuses values no rule could read honestly (a NaN probability, a
    negative amount), naming the field: a broken score must fail loudly, not decide.
    """

    age_years: int | None
    is_blacklisted: bool | None
    is_greylisted: bool | None
    is_whitelisted: bool | None
    credit_points: float  # the grades read points: one scale whichever model is champion
    probability_of_default: float  # checked, not read: the points already carry it
    fraud_probability: float
    fraud_review_threshold: float  # the fraud model version's threshold (its review budget)
    requested_amount_minor: int
    monthly_income_minor: int | None
    term_months: int

    def __post_init__(self) -> None:
        for name, is_valid, expected in _REQUIRED_INPUTS:
            value = getattr(self, name)
            if not is_valid(value):
                raise ValueError(f"{name}: expected {expected}, got {value!r}")
        for name, is_valid, expected in _OPTIONAL_INPUTS:
            value = getattr(self, name)
            if value is not None and not is_valid(value):
                raise ValueError(f"{name}: expected {expected} or None (unknown), got {value!r}")
        for name in _FLAGS:  # numpy's booleans, 0 and 1: plain bools from here on
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, bool(value))


def _is_probability(value: float) -> bool:
    return 0.0 <= value <= 1.0


# Each check is written so that NaN fails it: no comparison with NaN is true.
_REQUIRED_INPUTS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("probability_of_default", _is_probability, "a probability in [0, 1]"),
    ("fraud_probability", _is_probability, "a probability in [0, 1]"),
    ("fraud_review_threshold", _is_probability, "a probability in [0, 1]"),
    ("credit_points", math.isfinite, "a finite number"),
    ("requested_amount_minor", lambda v: v > 0, "a positive amount"),
    ("term_months", lambda v: v > 0, "a positive number of months"),
)
_FLAGS = ("is_blacklisted", "is_greylisted", "is_whitelisted")
_OPTIONAL_INPUTS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("age_years", lambda v: v >= 0, "an age >= 0"),
    ("monthly_income_minor", lambda v: v >= 0, "an amount >= 0"),
    *((flag, lambda v: v in (True, False), "True or False") for flag in _FLAGS),
)


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """What the policy decided, and why: the record a risk officer reads afterwards.

    An approval carries the offer; a review carries the offer the reviewer would approve
    (the grade's limit and APR); a decline carries no offer (limit 0, APR 0, no grade).
    ``fired`` lists the rule ids that decided, in order of evaluation; ``policy_reasons``
    the reason codes and messages an applicant may be told (none for a plain approval).
    """

    outcome: Outcome
    credit_limit_minor: int
    apr: float
    grade: str | None
    rules_version: str
    fired: list[str]
    policy_reasons: list[dict[str, str]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Probability = Annotated[float, Field(gt=0, lt=1)]


class Range(_Strict):
    """Inclusive bounds: a value is inside when ``minimum <= value <= maximum``."""

    minimum: int = Field(ge=0)
    maximum: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.maximum < self.minimum:
            raise ValueError(f"maximum {self.maximum} is below minimum {self.minimum}")
        return self


class Eligibility(_Strict):
    age_years: Range
    term_months: Range


class Lists(_Strict):
    whitelist_fast_lane: bool = Field(
        description="A whitelisted applicant skips the greylist and fraud reviews (never a "
        "decline)."
    )


class Fraud(_Strict):
    review_at: Literal["model"] | Probability = Field(
        description="Review at or above this fraud probability; `model`: the fraud model "
        "version's own threshold."
    )
    decline_at: float = Field(gt=0, le=1, description="Decline at or above this.")

    @model_validator(mode="after")
    def _review_below_decline(self) -> Fraud:
        if self.review_at != "model" and self.review_at >= self.decline_at:
            raise ValueError(
                f"review_at {self.review_at:g} must be below decline_at {self.decline_at:g}"
            )
        return self


class Limits(_Strict):
    rounding_minor: int = Field(gt=0, description="Limits are rounded down to a multiple.")
    minimum_minor: int = Field(ge=0, description="A smaller limit is declined.")


class Grade(_Strict):
    """A credit grade: the points it starts at, its price and its limit rule."""

    name: str = Field(min_length=1)
    min_points: float = Field(allow_inf_nan=False)
    apr: float = Field(gt=0, lt=1)
    max_limit_minor: int = Field(gt=0)
    income_multiple: float = Field(gt=0, allow_inf_nan=False)

    def limit(self, inputs: PolicyInputs, rounding_minor: int) -> tuple[int, str]:
        """The smallest of the requested amount, this grade's maximum and the income
        multiple (when the income is known), rounded down; and the rule that bound it."""
        limit, binding = inputs.requested_amount_minor, LIMIT_REQUESTED
        if self.max_limit_minor < limit:
            limit, binding = self.max_limit_minor, LIMIT_GRADE_MAXIMUM
        if inputs.monthly_income_minor is not None:
            income_limit = int(inputs.monthly_income_minor * self.income_multiple)
            if income_limit < limit:
                limit, binding = income_limit, LIMIT_INCOME_MULTIPLE
        return limit - limit % rounding_minor, binding


class Policy(_Strict):
    """``policy/decision_rules.yml``: see ``policy/README.md`` for what each section means."""

    version: str = Field(
        pattern=r"^\d{4}\.\d{1,2}\.\d+$", description="year.month.change, e.g. 2026.11.1"
    )
    description: str
    owner: str
    apr_cap: float = Field(default=0.24, gt=0, le=1)
    eligibility: Eligibility
    lists: Lists
    fraud: Fraud
    # before grades: the grades are checked against the cap and the limits
    limits: Limits
    grades: list[Grade] = Field(min_length=1)

    @field_validator("grades")
    @classmethod
    def _consistent_grades(cls, grades: list[Grade], info: ValidationInfo) -> list[Grade]:
        problems = []
        names = [grade.name for grade in grades]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            problems.append(f"grade names must be unique: {', '.join(repeated)} repeated")
        for safer, riskier in pairwise(grades):
            if riskier.min_points >= safer.min_points:
                problems.append(
                    f"min_points must fall strictly: grade {riskier.name} "
                    f"({riskier.min_points:g}) follows grade {safer.name} ({safer.min_points:g})"
                )
            if riskier.apr < safer.apr:
                problems.append(
                    f"grade {riskier.name}'s apr {riskier.apr:g} is below grade {safer.name}'s "
                    f"{safer.apr:g}: a riskier grade never pays less"
                )
            if riskier.max_limit_minor > safer.max_limit_minor:
                problems.append(
                    f"grade {riskier.name}'s max_limit_minor {riskier.max_limit_minor} is above "
                    f"grade {safer.name}'s {safer.max_limit_minor}: a riskier grade never gets more"
                )
        apr_cap = info.data.get("apr_cap")  # absent when it was invalid itself
        limits = info.data.get("limits")
        for grade in grades:
            if apr_cap is not None and grade.apr > apr_cap:
                problems.append(
                    f"grade {grade.name}: apr {grade.apr:g} is above apr_cap {apr_cap:g}"
                )
            if limits is not None and grade.max_limit_minor < limits.minimum_minor:
                problems.append(
                    f"grade {grade.name}: max_limit_minor {grade.max_limit_minor} is below "
                    f"limits.minimum_minor {limits.minimum_minor}: it could never lend"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return grades

    def decide(self, inputs: PolicyInputs) -> PolicyDecision:
        """The decision for one application under these rules (pure; see the module doc)."""
        fired: list[Rule] = []  # the reviews (and the fast lane) so far, in order

        age, ages = inputs.age_years, self.eligibility.age_years
        if age is None:
            fired.append(AGE_UNKNOWN)
        elif age < ages.minimum:
            return self._decline(AGE_BELOW_MINIMUM)
        elif age > ages.maximum:
            return self._decline(AGE_ABOVE_MAXIMUM)
        terms = self.eligibility.term_months
        if not terms.minimum <= inputs.term_months <= terms.maximum:
            return self._decline(TERM_NOT_OFFERED)

        if inputs.is_blacklisted:
            return self._decline(BLACKLISTED)
        if inputs.is_blacklisted is None:
            fired.append(BLACKLIST_UNKNOWN)
        fast_lane = bool(inputs.is_whitelisted) and self.lists.whitelist_fast_lane
        if fast_lane:
            fired.append(WHITELIST_FAST_LANE)
        elif inputs.is_greylisted:
            fired.append(GREYLISTED)
        elif inputs.is_greylisted is None:
            fired.append(GREYLIST_UNKNOWN)

        fraud = self.fraud
        if inputs.fraud_probability >= fraud.decline_at:
            return self._decline(FRAUD_DECLINE)
        review_at = inputs.fraud_review_threshold if fraud.review_at == "model" else fraud.review_at
        if not fast_lane and inputs.fraud_probability >= review_at:
            fired.append(FRAUD_REVIEW)

        for grade in self.grades:  # safest first: the first band reached
            if inputs.credit_points >= grade.min_points:
                break
        else:
            return self._decline(GRADE_DECLINE)
        limit, binding = grade.limit(inputs, self.limits.rounding_minor)
        if limit < self.limits.minimum_minor:
            return self._decline(LIMIT_BELOW_MINIMUM)

        reasons = _reasons(fired)
        return PolicyDecision(
            outcome="review" if reasons else "approve",
            credit_limit_minor=limit,
            apr=min(grade.apr, self.apr_cap),  # the loader refuses more; never trust one place
            grade=grade.name,
            rules_version=self.version,
            fired=[*(rule.id for rule in fired), f"grade.{grade.name}", binding],
            policy_reasons=reasons,
        )

    def _decline(self, rule: Rule) -> PolicyDecision:
        return PolicyDecision(
            outcome="decline",
            credit_limit_minor=0,
            apr=0.0,
            grade=None,
            rules_version=self.version,
            fired=[rule.id],
            policy_reasons=_reasons([rule]),
        )


def _reasons(rules: list[Rule]) -> list[dict[str, str]]:
    """The reasons to tell, one per code, in order of evaluation, at most MAX_REASONS."""
    reasons: dict[str, dict[str, str]] = {}
    for rule in rules:
        if rule.code:
            reasons.setdefault(rule.code, {"code": rule.code, "message": rule.message})
    return list(reasons.values())[:MAX_REASONS]


def decision_rules_path(settings: Settings | None = None) -> Path:
    """The project's rules file: ``policy/decision_rules.yml``."""
    return (settings or Settings()).policy_dir / DECISION_RULES_FILE


def load_policy(path: Path | None = None) -> Policy:
    """The rules in ``path`` (default: the project's ``policy/decision_rules.yml``).

    Raises PolicyError naming the file, and for a wrong value its dotted field.
    """
    path = decision_rules_path() if path is None else Path(path)
    if not path.is_file():
        raise PolicyError(f"{path}: no such rules file")
    return read_yaml_model(path, Policy, PolicyError)
