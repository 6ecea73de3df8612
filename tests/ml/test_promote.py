"""A challenger becomes champion on the interval of its evidence, never on noise; every
check is recorded either way, with its sample, interval and burden of proof."""

from __future__ import annotations

from typing import Any

from zhongtai.ml.promote import decide_promotion
from zhongtai.ml.spec import PromotionSpec

GATES = PromotionSpec(
    min_auc=0.65,
    min_auc_gain=0.005,
    max_psi=0.10,
    max_fairness_gap=0.10,
    burden_of_proof={"prod": "model", "dev": "harm", "test": "harm"},
)


def _bands(gap: float | None, gap_interval: list[float] | None) -> dict[str, Any]:
    bands = [
        {"group": "[18, 40)", "rows": 2600, "defaulters": 210, "non_defaulters": 2390},
        {"group": "[40, 120)", "rows": 2610, "defaulters": 202, "non_defaulters": 2408},
    ]
    for band in bands:
        band["compared"] = gap is not None
    return {
        "attribute": "age_years",
        "kind": "bands",
        "groups": bands,
        "min_rows": 100,
        "min_events": 30,
        "auc_gap": gap,
        "auc_gap_interval": gap_interval,
    }


def _cities(gap: float | None, gap_interval: list[float] | None) -> dict[str, Any]:
    cities = [
        {"group": "1101", "rows": 900, "defaulters": 70, "non_defaulters": 830},
        {"group": "3101", "rows": 850, "defaulters": 66, "non_defaulters": 784},
        {"group": "6101", "rows": 60, "defaulters": 4, "non_defaulters": 56},
    ]
    for city in cities:
        city["compared"] = gap is not None and city["rows"] >= 100
    return {
        "attribute": "city_code",
        "kind": "groups",
        "groups": cities,
        "min_rows": 100,
        "min_events": 30,
        "auc_gap": gap,
        "auc_gap_interval": gap_interval,
    }


def _metrics(
    auc: float = 0.7857,
    auc_interval: list[float] | None = None,
    *,
    rows: int = 5210,
    defaulters: int = 412,
    psi: float = 0.02,
    psi_interval: list[float] | None = None,
    gap: float | None = 0.05,
    gap_interval: list[float] | None = None,
) -> dict[str, Any]:
    return {
        "rows": rows,
        "defaulters": defaulters,
        "non_defaulters": rows - defaulters,
        "auc": auc,
        "auc_interval": auc_interval or [auc - 0.02, auc + 0.02],
        "rows_reference": 20_000,
        "score_psi": psi,
        "score_psi_interval": psi_interval or [max(0.0, psi - 0.01), psi + 0.01],
        "fairness": {
            "age_years": _bands(gap, gap_interval or ([gap - 0.03, gap + 0.03] if gap else None))
        },
    }


def _champion(gain: float, interval: list[float], rows: int = 5210, defaulters: int = 412):
    return {
        "rows": rows,
        "defaulters": defaulters,
        "non_defaulters": rows - defaulters,
        "auc": 0.75,
        "auc_gain": gain,
        "auc_gain_interval": interval,
    }


def _check(decision, name: str):
    (check,) = [c for c in decision.checks if c.name == name]
    return check


def test_the_first_challenger_is_promoted_on_its_own_evidence() -> None:
    decision = decide_promotion(_metrics(0.7857, [0.7612, 0.8101]), None, GATES, "prod")
    assert decision.promote and decision.reasons == []
    assert (decision.env, decision.burden, decision.confidence) == ("prod", "model", 0.95)
    assert [check.name for check in decision.checks] == [
        "min_auc",
        "max_psi",
        "max_fairness_gap.age_years",
        "min_auc_gain",
    ]
    auc = _check(decision, "min_auc")
    assert auc.reason == (
        "out-of-time AUC 0.7857 (95% CI 0.7612–0.8101; 5,210 rows, 412 defaulters) "
        "reaches 0.6500: its lower bound does"
    )
    assert (auc.rows, auc.events) == (5210, {"defaulters": 412, "non_defaulters": 4798})
    assert auc.interval == (0.7612, 0.8101) and auc.measurable and auc.burden == "model"
    assert decision.report[0] == f"pass min_auc: {auc.reason}"
    assert len(decision.report) == 4


def test_a_thin_sample_is_not_measurable_and_the_burden_decides() -> None:
    # the test world of 2026-12-02: 117 rows out of time, 2 defaulters, AUC 0.40
    thin = _metrics(0.40, [0.0, 0.9], rows=117, defaulters=2)
    promoted = decide_promotion(thin, None, GATES, "test")
    assert promoted.promote and promoted.burden == "harm"
    auc = _check(promoted, "min_auc")
    assert auc.passed and not auc.measurable
    assert auc.reason == (
        "out-of-time AUC not measurable: 2 defaulters among 117 rows, fewer than the 30 the "
        "spec asks; passes: in test only evidence of harm refuses"
    )
    refused = decide_promotion(thin, None, GATES, "prod")
    assert not refused.promote
    assert refused.reasons == [
        "out-of-time AUC not measurable: 2 defaulters among 117 rows, fewer than the 30 the "
        "spec asks; refused: in prod the model must show it meets the limit 0.6500"
    ]


def test_under_harm_an_auc_interval_wholly_below_the_limit_refuses() -> None:
    refused = decide_promotion(_metrics(0.58, [0.55, 0.61]), None, GATES, "dev")
    assert not refused.promote
    assert refused.reasons == [
        "out-of-time AUC 0.5800 (95% CI 0.5500–0.6100; 5,210 rows, 412 defaulters) falls "
        "short of 0.6500: its upper bound does too"
    ]
    # the 5,000-applicant demo's AUC 0.59 on a thinner sample: not evidence of harm
    passed = decide_promotion(
        _metrics(0.59, [0.50, 0.68], rows=400, defaulters=32), None, GATES, "dev"
    )
    assert passed.promote
    assert _check(passed, "min_auc").reason.endswith(
        "is not shown to fall short of 0.6500: its upper bound reaches it"
    )
    # the same sample under production's burden: the lower bound must reach the limit
    assert not decide_promotion(
        _metrics(0.59, [0.50, 0.68], rows=400, defaulters=32), None, GATES, "prod"
    ).promote


def test_a_gap_whose_interval_straddles_the_limit_is_refused_only_under_model() -> None:
    # the 30,000-applicant demo's gap: 0.1092 measured, but 0.10 is within its interval
    metrics = _metrics(gap=0.1092, gap_interval=[0.0712, 0.1472])
    refused = decide_promotion(metrics, None, GATES, "prod")
    assert refused.reasons == [
        "AUC gap between age_years bands 0.1092 (95% CI 0.0712–0.1472; 2 bands, 5,210 rows, "
        "fewest defaulters 202 in [40, 120)) is not shown to be within 0.1000: its upper "
        "bound exceeds it"
    ]
    gap = _check(refused, "max_fairness_gap.age_years")
    assert gap.events["[40, 120) defaulters"] == 202 and gap.rows == 5210
    passed = decide_promotion(metrics, None, GATES, "dev")
    assert passed.promote
    assert _check(passed, "max_fairness_gap.age_years").reason.endswith(
        "is not shown to exceed 0.1000: its lower bound is within it"
    )
    unfair = decide_promotion(_metrics(gap=0.2, gap_interval=[0.13, 0.27]), None, GATES, "dev")
    assert unfair.reasons[0].endswith("exceeds 0.1000: its lower bound does too")


def test_an_unmeasured_gap_names_the_bands_and_follows_the_burden() -> None:
    metrics = _metrics(gap=None)
    passed = decide_promotion(metrics, None, GATES, "test")
    assert passed.promote
    assert _check(passed, "max_fairness_gap.age_years").reason == (
        "AUC gap between age_years bands not measurable: 0 of 2 bands hold 100 rows with 30 "
        "defaulters and as many non-defaulters, a gap needs two (defaulters per band: "
        "[18, 40) 210, [40, 120) 202); passes: in test only evidence of harm refuses"
    )
    assert not decide_promotion(metrics, None, GATES, "prod").promote


def test_instability_is_read_through_its_interval() -> None:
    drifted = _metrics(psi=0.3, psi_interval=[0.22, 0.38])
    assert decide_promotion(drifted, None, GATES, "dev").reasons == [
        "score PSI 0.3000 (95% CI 0.2200–0.3800; 5,210 rows out of time against 20,000 in "
        "development) exceeds 0.1000: its lower bound does too"
    ]
    unsure = _metrics(psi=0.08, psi_interval=[0.02, 0.14])
    assert decide_promotion(unsure, None, GATES, "dev").promote
    assert not decide_promotion(unsure, None, GATES, "prod").promote


def test_a_challenger_must_show_its_gain_over_the_champion() -> None:
    shown = decide_promotion(_metrics(), _champion(0.012, [0.0061, 0.0179]), GATES, "prod")
    assert shown.promote
    assert _check(shown, "min_auc_gain").reason == (
        "AUC gain over the champion 0.0120 (95% CI 0.0061–0.0179; 5,210 rows, 412 defaulters) "
        "reaches 0.0050: its lower bound does"
    )
    unsure = _champion(0.008, [-0.002, 0.018])
    assert not decide_promotion(_metrics(), unsure, GATES, "prod").promote
    assert decide_promotion(_metrics(), unsure, GATES, "dev").promote


def test_an_identical_retrain_never_churns_the_champion_even_under_harm() -> None:
    # same data, same model: the paired gain is exactly 0, with no noise around it
    same = _champion(0.0, [0.0, 0.0])
    for env in ("prod", "dev"):
        refused = decide_promotion(_metrics(), same, GATES, env)
        assert not refused.promote
        assert refused.reasons[0].startswith(
            "AUC gain over the champion 0.0000 (95% CI 0.0000–0.0000; 5,210 rows"
        )


def test_a_retrain_that_reproduces_the_champion_is_refused_on_any_sample() -> None:
    thin = _metrics(0.40, [0.0, 0.9], rows=117, defaulters=2)
    same = {**_champion(0.0, [0.0, 0.0], rows=117, defaulters=2), "identical": True}
    refused = decide_promotion(thin, same, GATES, "test")
    assert refused.reasons == [
        "AUC gain over the champion 0.0000 (95% CI 0.0000–0.0000; the challenger scores all "
        "117 rows as the champion does) falls short of 0.0050: its upper bound does too"
    ]
    # a different challenger on the same thin sample: its gain is noise, not evidence
    other = {**same, "identical": False, "auc_gain": 0.02, "auc_gain_interval": [-0.3, 0.34]}
    assert decide_promotion(thin, other, GATES, "test").promote


def test_a_champion_that_cannot_be_scored_is_replaced_only_without_burden() -> None:
    broken = {"auc": None, "auc_gain": None, "error": "no column income"}
    assert decide_promotion(_metrics(), broken, GATES, "dev").promote
    refused = decide_promotion(_metrics(), broken, GATES, "prod")
    assert refused.reasons == [
        "AUC gain over the champion not measurable: the champion could not be scored "
        "(no column income); refused: in prod the model must show it meets the limit 0.0050"
    ]


def test_an_environment_the_spec_does_not_name_carries_the_model_burden() -> None:
    gates = GATES.model_copy(update={"burden_of_proof": {"test": "harm"}})
    thin = _metrics(0.40, [0.0, 0.9], rows=117, defaulters=2)
    assert decide_promotion(thin, None, gates, "test").promote
    assert decide_promotion(thin, None, gates, "dev").burden == "model"
    assert not decide_promotion(thin, None, gates, "dev").promote


def test_the_record_carries_every_field_of_every_check() -> None:
    record = decide_promotion(_metrics(psi=0.3, psi_interval=[0.22, 0.38]), None, GATES, "dev")
    document = record.to_dict()
    assert (document["promote"], document["env"], document["burden"]) == (False, "dev", "harm")
    assert document["checks"][1] == {
        "name": "max_psi",
        "passed": False,
        "measurable": True,
        "value": 0.3,
        "interval": (0.22, 0.38),
        "limit": 0.1,
        "rows": 5210,
        "events": {},
        "burden": "harm",
        "reason": record.reasons[0],
    }


def test_every_fairness_attribute_is_its_own_check() -> None:
    metrics = _metrics(gap=0.04)
    metrics["fairness"]["city_code"] = _cities(0.16, [0.12, 0.20])
    refused = decide_promotion(metrics, None, GATES, "dev")
    assert [check.name for check in refused.checks] == [
        "min_auc",
        "max_psi",
        "max_fairness_gap.age_years",
        "max_fairness_gap.city_code",
        "min_auc_gain",
    ]
    # age is within the limit; the gap between cities is evidence of harm, and alone refuses
    assert _check(refused, "max_fairness_gap.age_years").passed
    assert refused.reasons == [
        "AUC gap between city_code groups 0.1600 (95% CI 0.1200–0.2000; 2 groups, 1,750 rows, "
        "fewest defaulters 66 in 3101) exceeds 0.1000: its lower bound does too"
    ]
    assert _check(refused, "max_fairness_gap.city_code").events["6101 defaulters"] == 4
    # one attribute that cannot be measured refuses under the model's burden, whatever others
    metrics["fairness"]["city_code"] = _cities(None, None)
    prod = decide_promotion(metrics, None, GATES, "prod")
    assert prod.reasons == [
        "AUC gap between city_code groups not measurable: 0 of 3 groups hold 100 rows with 30 "
        "defaulters and as many non-defaulters, a gap needs two (defaulters per group: 1101 "
        "70, 3101 66, 6101 4); refused: in prod the model must show it meets the limit 0.1000"
    ]


def test_a_spec_without_fairness_attributes_cannot_show_fairness() -> None:
    metrics = _metrics()
    del metrics["fairness"]
    assert decide_promotion(metrics, None, GATES, "dev").promote
    refused = decide_promotion(metrics, None, GATES, "prod")
    assert refused.reasons == [
        "AUC gap between groups not measurable: the spec has no fairness attribute; refused: "
        "in prod the model must show it meets the limit 0.1000"
    ]


def test_a_holdout_is_named_as_such() -> None:
    decision = decide_promotion(_metrics(0.7857, [0.7612, 0.8101]), None, GATES, "prod", "holdout")
    assert _check(decision, "min_auc").reason.startswith("holdout AUC 0.7857 (95% CI")
    assert "5,210 rows in the holdout against 20,000 in development" in (
        _check(decision, "max_psi").reason
    )
