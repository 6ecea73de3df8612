"""The decision policy: each rule, their precedence, limits and APRs, and the rules file."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from zhongtai.decision.policy import (
    MAX_REASONS,
    Fraud,
    Lists,
    PolicyDecision,
    PolicyError,
    PolicyInputs,
    decision_rules_path,
    load_policy,
)

POLICY = load_policy()

# A clean applicant: grade B (640 to 680 points), asking for less than every cap.
CLEAN = PolicyInputs(
    age_years=30,
    is_blacklisted=False,
    is_greylisted=False,
    is_whitelisted=False,
    credit_points=650.0,
    probability_of_default=0.004,
    fraud_probability=0.01,
    fraud_review_threshold=0.2,
    requested_amount_minor=3_000_000,  # 30,000 CNY
    monthly_income_minor=1_000_000,  # 10,000 CNY a month
    term_months=12,
)


def decide(**changes: Any) -> PolicyDecision:
    return POLICY.decide(replace(CLEAN, **changes))


def codes(decision: PolicyDecision) -> list[str]:
    return [reason["code"] for reason in decision.policy_reasons]


def rules_document() -> dict[str, Any]:
    return yaml.safe_load(decision_rules_path().read_text())


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "decision_rules.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


# --- the committed rules -------------------------------------------------------------


def test_the_committed_rules_load() -> None:
    assert POLICY.version == rules_document()["version"]
    assert POLICY.apr_cap == 0.24
    assert [grade.name for grade in POLICY.grades] == ["A", "B", "C", "D"]
    assert [grade.min_points for grade in POLICY.grades] == [680, 640, 600, 570]
    assert POLICY.grades[0].max_limit_minor == 200_000_00  # 200,000 CNY for grade A
    assert POLICY.fraud.review_at == "model"


def test_a_clean_applicant_is_approved_at_the_grade_s_price() -> None:
    decision = decide()
    assert decision == PolicyDecision(
        outcome="approve",
        credit_limit_minor=3_000_000,
        apr=0.144,
        grade="B",
        rules_version=POLICY.version,
        fired=["grade.B", "limit.requested"],
        policy_reasons=[],
    )


def test_every_decision_records_the_rules_version(tmp_path: Path) -> None:
    document = rules_document() | {"version": "2027.1.3"}
    bumped = load_policy(write(tmp_path, document))
    for changes in ({}, {"age_years": 12}, {"is_greylisted": True}):
        assert bumped.decide(replace(CLEAN, **changes)).rules_version == "2027.1.3"


# --- hard rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "outcome", "reason"),
    [
        (17, "decline", ["AGE_BELOW_MINIMUM"]),
        (18, "approve", []),
        (60, "approve", []),
        (61, "decline", ["AGE_ABOVE_MAXIMUM"]),
    ],
)
def test_age_outside_the_range_is_declined(age: int, outcome: str, reason: list[str]) -> None:
    decision = decide(age_years=age)
    assert (decision.outcome, codes(decision)) == (outcome, reason)


def test_an_unknown_age_goes_to_review_with_the_offer_it_would_get() -> None:
    decision = decide(age_years=None)
    assert decision.outcome == "review"
    assert codes(decision) == ["AGE_UNKNOWN"]
    assert (decision.credit_limit_minor, decision.apr, decision.grade) == (3_000_000, 0.144, "B")
    assert decision.fired == ["age.unknown", "grade.B", "limit.requested"]


@pytest.mark.parametrize(("term", "outcome"), [(2, "decline"), (3, "approve"), (36, "approve")])
def test_a_term_the_product_does_not_offer_is_declined(term: int, outcome: str) -> None:
    decision = decide(term_months=term)
    assert decision.outcome == outcome
    assert codes(decision) == (["TERM_NOT_OFFERED"] if outcome == "decline" else [])


def test_a_blacklisted_applicant_is_declined_with_no_offer() -> None:
    decision = decide(is_blacklisted=True)
    assert decision.outcome == "decline"
    assert (decision.credit_limit_minor, decision.apr, decision.grade) == (0, 0.0, None)
    assert decision.fired == ["lists.blacklist"]
    assert codes(decision) == ["BLACKLISTED"]


def test_a_greylisted_applicant_goes_to_review() -> None:
    decision = decide(is_greylisted=True)
    assert decision.outcome == "review"
    assert codes(decision) == ["GREYLISTED"]


@pytest.mark.parametrize("unknown", ["is_blacklisted", "is_greylisted"])
def test_an_unanswered_list_check_goes_to_review(unknown: str) -> None:
    decision = decide(**{unknown: None})
    assert decision.outcome == "review"
    assert codes(decision) == ["LIST_CHECK_UNAVAILABLE"]


def test_both_lists_unanswered_give_one_reason_and_two_rules() -> None:
    decision = decide(is_blacklisted=None, is_greylisted=None)
    assert codes(decision) == ["LIST_CHECK_UNAVAILABLE"]
    assert decision.fired[:2] == ["lists.blacklist_unknown", "lists.greylist_unknown"]


def test_an_unknown_whitelist_is_no_fast_lane() -> None:
    assert decide(is_whitelisted=None).outcome == "approve"
    assert decide(is_whitelisted=None, is_greylisted=True).outcome == "review"


def test_the_whitelist_fast_lane_skips_the_greylist_and_fraud_reviews() -> None:
    decision = decide(is_whitelisted=True, is_greylisted=True, fraud_probability=0.3)
    assert decision.outcome == "approve"
    assert decision.fired == ["lists.whitelist", "grade.B", "limit.requested"]
    assert decide(is_whitelisted=True, is_greylisted=None).outcome == "approve"
    decision = decide(is_whitelisted=True, is_blacklisted=None)  # no lane past the blacklist
    assert decision.outcome == "review"
    assert decision.fired[:2] == ["lists.blacklist_unknown", "lists.whitelist"]


def test_the_fast_lane_can_be_switched_off() -> None:
    no_fast_lane = POLICY.model_copy(update={"lists": Lists(whitelist_fast_lane=False)})
    inputs = replace(CLEAN, is_whitelisted=True, is_greylisted=True)
    assert no_fast_lane.decide(inputs).outcome == "review"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"is_blacklisted": True}, "BLACKLISTED"),
        ({"age_years": 17}, "AGE_BELOW_MINIMUM"),
        ({"fraud_probability": 0.9}, "FRAUD_DECLINE"),
        ({"credit_points": 500.0}, "GRADE_DECLINE"),
        ({"monthly_income_minor": 10_000}, "LIMIT_BELOW_MINIMUM"),
    ],
)
def test_the_whitelist_never_skips_a_decline(changes: dict[str, Any], reason: str) -> None:
    decision = decide(is_whitelisted=True, **changes)
    assert (decision.outcome, codes(decision)) == ("decline", [reason])


@pytest.mark.parametrize(
    ("changes", "first"),
    [
        # age before the lists, the blacklist before the fraud score and the grade
        ({"age_years": 70, "is_blacklisted": True}, "AGE_ABOVE_MAXIMUM"),
        ({"term_months": 60, "is_blacklisted": True}, "TERM_NOT_OFFERED"),
        ({"is_blacklisted": True, "fraud_probability": 0.9}, "BLACKLISTED"),
        ({"is_blacklisted": True, "credit_points": 400.0}, "BLACKLISTED"),
        ({"fraud_probability": 0.9, "credit_points": 400.0}, "FRAUD_DECLINE"),
    ],
)
def test_the_first_decline_decides_alone(changes: dict[str, Any], first: str) -> None:
    decision = decide(**changes)
    assert (decision.outcome, codes(decision)) == ("decline", [first])
    assert len(decision.fired) == 1


def test_a_decline_overrides_the_reviews_before_it() -> None:
    decision = decide(age_years=None, is_greylisted=True, credit_points=500.0)
    assert (decision.outcome, codes(decision)) == ("decline", ["GRADE_DECLINE"])


def test_reviews_add_up_in_the_order_the_rules_run() -> None:
    decision = decide(age_years=None, is_greylisted=True, fraud_probability=0.3)
    assert decision.outcome == "review"
    assert codes(decision) == ["AGE_UNKNOWN", "GREYLISTED", "FRAUD_REVIEW"]
    assert decision.fired == [
        "age.unknown",
        "lists.greylist",
        "fraud.review",
        "grade.B",
        "limit.requested",
    ]
    assert len(decision.policy_reasons) <= MAX_REASONS
    assert all(reason["message"] for reason in decision.policy_reasons)


# --- fraud ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraud_probability", "outcome"),
    [(0.1999, "approve"), (0.2, "review"), (0.4999, "review"), (0.5, "decline")],
)
def test_fraud_reviews_at_the_model_s_threshold_and_declines_above(
    fraud_probability: float, outcome: str
) -> None:
    decision = decide(fraud_probability=fraud_probability, fraud_review_threshold=0.2)
    assert decision.outcome == outcome
    expected = {"approve": [], "review": ["FRAUD_REVIEW"], "decline": ["FRAUD_DECLINE"]}
    assert codes(decision) == expected[outcome]


def test_a_fixed_fraud_review_threshold_overrides_the_model_s() -> None:
    fixed = POLICY.model_copy(update={"fraud": Fraud(review_at=0.3, decline_at=0.6)})
    inputs = replace(CLEAN, fraud_review_threshold=0.05)
    assert fixed.decide(replace(inputs, fraud_probability=0.29)).outcome == "approve"
    assert fixed.decide(replace(inputs, fraud_probability=0.3)).outcome == "review"
    assert fixed.decide(replace(inputs, fraud_probability=0.6)).outcome == "decline"


# --- grades, limits, APR -------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "grade", "apr"),
    [
        (750.0, "A", 0.108),
        (680.0, "A", 0.108),
        (679.99, "B", 0.144),
        (640.0, "B", 0.144),
        (639.99, "C", 0.18),
        (600.0, "C", 0.18),
        (570.0, "D", 0.216),
        (569.99, None, 0.0),
    ],
)
def test_credit_points_bands_set_the_grade_and_its_apr(
    points: float, grade: str | None, apr: float
) -> None:
    decision = decide(credit_points=points, requested_amount_minor=1_000_000)
    assert (decision.grade, decision.apr) == (grade, apr)
    if grade is None:
        assert (decision.outcome, codes(decision)) == ("decline", ["GRADE_DECLINE"])


@pytest.mark.parametrize(
    ("points", "requested", "income", "limit", "binding"),
    [
        (700.0, 3_000_000, 1_000_000, 3_000_000, "limit.requested"),
        # grade A's maximum (200,000 CNY) under a large income
        (700.0, 30_000_000, 10_000_000, 20_000_000, "limit.grade_maximum"),
        # grade D's maximum (20,000 CNY)
        (575.0, 3_000_000, 1_000_000, 2_000_000, "limit.grade_maximum"),
        # four months of income for grade B: 4 * 5,000 CNY
        (650.0, 3_000_000, 500_000, 2_000_000, "limit.income_multiple"),
        # three months for grade C, rounded down to whole 100 CNY: 9,999.99 -> 9,900
        (610.0, 3_000_000, 333_333, 990_000, "limit.income_multiple"),
        # an unknown income: no income cap
        (650.0, 3_000_000, None, 3_000_000, "limit.requested"),
        (650.0, 30_000_000, None, 10_000_000, "limit.grade_maximum"),
        # the requested amount, rounded down: 12,345.67 -> 12,300
        (650.0, 1_234_567, 1_000_000, 1_230_000, "limit.requested"),
    ],
)
def test_the_limit_is_the_smallest_cap_rounded_down(
    points: float, requested: int, income: int | None, limit: int, binding: str
) -> None:
    decision = decide(
        credit_points=points, requested_amount_minor=requested, monthly_income_minor=income
    )
    assert decision.outcome == "approve"
    assert decision.credit_limit_minor == limit
    assert decision.fired[-1] == binding


def test_a_limit_below_the_minimum_loan_is_declined() -> None:
    assert decide(requested_amount_minor=100_000).outcome == "approve"  # 1,000 CNY: the minimum
    for changes in ({"requested_amount_minor": 99_999}, {"monthly_income_minor": 20_000}):
        decision = decide(**changes)
        assert (decision.outcome, codes(decision)) == ("decline", ["LIMIT_BELOW_MINIMUM"])


def _random_inputs(rng: np.random.Generator, n: int) -> list[PolicyInputs]:
    def maybe(values: np.ndarray, share_unknown: float = 0.1) -> list[Any]:
        unknown = rng.random(n) < share_unknown
        return [None if u else v.item() for u, v in zip(unknown, values, strict=True)]

    ages = maybe(rng.integers(10, 80, n))
    lists = [maybe(rng.random(n) < 0.1) for _ in range(3)]
    incomes = maybe(rng.integers(0, 5_000_000, n))
    return [
        PolicyInputs(
            age_years=ages[i],
            is_blacklisted=lists[0][i],
            is_greylisted=lists[1][i],
            is_whitelisted=lists[2][i],
            credit_points=float(rng.normal(620, 50)),
            probability_of_default=float(rng.random()),
            fraud_probability=float(rng.beta(1, 8)),
            fraud_review_threshold=float(rng.uniform(0.05, 0.5)),
            requested_amount_minor=int(rng.integers(1, 50_000_000)),
            monthly_income_minor=incomes[i],
            term_months=int(rng.integers(1, 48)),
        )
        for i in range(n)
    ]


def test_no_decision_breaks_the_policy_s_invariants() -> None:
    rng = np.random.default_rng(20261101)
    outcomes = set()
    for inputs in _random_inputs(rng, 5_000):
        decision = POLICY.decide(inputs)
        outcomes.add(decision.outcome)
        assert 0.0 <= decision.apr <= POLICY.apr_cap
        assert decision.rules_version == POLICY.version
        assert len(decision.policy_reasons) <= MAX_REASONS
        if decision.outcome == "decline":
            assert (decision.credit_limit_minor, decision.apr, decision.grade) == (0, 0.0, None)
            assert len(decision.policy_reasons) == 1
            continue
        assert POLICY.limits.minimum_minor <= decision.credit_limit_minor
        assert decision.credit_limit_minor <= inputs.requested_amount_minor
        assert decision.credit_limit_minor % POLICY.limits.rounding_minor == 0
        if decision.outcome == "approve":  # never on a missing input
            assert decision.policy_reasons == []
            assert inputs.age_years is not None and inputs.is_blacklisted is not None
            assert inputs.is_greylisted is not None or inputs.is_whitelisted
        else:
            assert decision.policy_reasons
    assert outcomes == {"approve", "review", "decline"}


def test_the_apr_is_clamped_to_the_cap_even_past_the_loader() -> None:
    # model_copy skips validation: a policy the loader would refuse, priced above its cap
    capped = POLICY.model_copy(update={"apr_cap": 0.15})
    rng = np.random.default_rng(7)
    aprs = np.array([capped.decide(inputs).apr for inputs in _random_inputs(rng, 2_000)])
    assert aprs.max() == pytest.approx(0.15)
    assert (aprs <= 0.15).all()


# --- inputs no rule can read ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("probability_of_default", math.nan),
        ("fraud_probability", math.nan),
        ("fraud_review_threshold", math.nan),
        ("fraud_probability", 1.5),
        ("credit_points", math.nan),
        ("credit_points", math.inf),
        ("requested_amount_minor", 0),
        ("term_months", 0),
        ("requested_amount_minor", math.nan),
        ("monthly_income_minor", -1),
        ("monthly_income_minor", math.nan),
        ("age_years", -3),
        ("age_years", math.nan),  # a missing age is None, never a NaN that passes as one
        ("is_blacklisted", math.nan),
        ("is_whitelisted", "yes"),
    ],
)
def test_an_input_no_rule_can_read_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        replace(CLEAN, **{field: value})


def test_list_flags_from_numpy_count_as_plain_booleans() -> None:
    inputs = replace(CLEAN, is_whitelisted=np.True_, is_greylisted=np.True_, is_blacklisted=0)
    assert (inputs.is_whitelisted, inputs.is_blacklisted) == (True, False)
    assert type(inputs.is_whitelisted) is bool
    assert POLICY.decide(inputs).fired[0] == "lists.whitelist"


# --- a wrong rules file is refused, naming the file and the field ---------------------


def test_a_grade_priced_above_the_cap_is_refused_naming_the_grade(tmp_path: Path) -> None:
    document = rules_document()
    document["grades"][3]["apr"] = 0.3
    path = write(tmp_path, document)
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    assert str(refused.value) == f"{path}: grades: grade D: apr 0.3 is above apr_cap 0.24"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(max_apr=0.2),
            "max_apr: Extra inputs are not permitted (got 0.2)",
        ),
        (
            lambda d: d["grades"][1].update(colour="blue"),
            "grades.1.colour: Extra inputs are not permitted (got 'blue')",
        ),
        (
            lambda d: d["grades"][2].update(min_points=650),
            "min_points must fall strictly: grade C (650) follows grade B (640)",
        ),
        (
            lambda d: d["grades"][2].update(apr=0.12),
            "grade C's apr 0.12 is below grade B's 0.144: a riskier grade never pays less",
        ),
        (lambda d: d["grades"][3].update(name="A"), "grade names must be unique: A repeated"),
        (lambda d: d.update(apr_cap=0), "apr_cap: Input should be greater than 0 (got 0)"),
        (
            lambda d: d["fraud"].update(review_at=0.6),
            "fraud: review_at 0.6 must be below decline_at 0.5",
        ),
        (
            lambda d: d["eligibility"]["age_years"].update(maximum=16),
            "eligibility.age_years: maximum 16 is below minimum 18",
        ),
        (lambda d: d.update(version="next"), "version: String should match pattern"),
        (lambda d: d.pop("limits"), "limits: Field required"),
    ],
)
def test_a_wrong_rules_file_is_refused_naming_the_field(
    tmp_path: Path, change: Any, message: str
) -> None:
    document = rules_document()
    change(document)
    path = write(tmp_path, document)
    with pytest.raises(PolicyError, match=str(path)) as refused:
        load_policy(path)
    assert message in str(refused.value)


def test_a_missing_or_malformed_rules_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no such rules file"):
        load_policy(tmp_path / "absent.yml")
    path = tmp_path / "decision_rules.yml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(PolicyError, match="expected a mapping of fields, got list"):
        load_policy(path)
