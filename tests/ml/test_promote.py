"""A challenger becomes champion only with evidence; every check is recorded either way."""

from __future__ import annotations

from typing import Any

from zhongtai.ml.promote import decide_promotion
from zhongtai.ml.spec import PromotionSpec

GATES = PromotionSpec(min_auc=0.65, min_auc_gain=0.005, max_psi=0.10, max_fairness_gap=0.10)


def _metrics(auc: float, psi: float | None = 0.02, gap: float | None = 0.05) -> dict[str, Any]:
    return {"auc": auc, "score_psi": psi, "fairness": {"auc_gap": gap}}


def test_the_first_challenger_is_promoted_on_its_own_evidence() -> None:
    decision = decide_promotion(_metrics(0.75), None, GATES)
    assert decision.promote and decision.reasons == []
    assert {check.name for check in decision.checks} == {
        "min_auc",
        "max_psi",
        "max_fairness_gap",
        "min_auc_gain",
    }


def test_a_challenger_must_beat_the_champion_by_the_margin() -> None:
    assert decide_promotion(_metrics(0.760), _metrics(0.750), GATES).promote
    refused = decide_promotion(_metrics(0.752), _metrics(0.750), GATES)
    assert not refused.promote
    assert refused.reasons == ["AUC gain over the champion 0.0020 falls short of 0.0050"]


def test_instability_unfairness_and_missing_evidence_refuse() -> None:
    refused = decide_promotion(_metrics(0.80, psi=0.3, gap=None), None, GATES)
    assert not refused.promote
    assert refused.reasons == [
        "score PSI 0.3000 exceeds 0.1000",
        "AUC gap between age bands was not measured",
    ]
    assert refused.to_dict()["checks"][1] == {
        "name": "max_psi",
        "passed": False,
        "value": 0.3,
        "limit": 0.1,
        "reason": "score PSI 0.3000 exceeds 0.1000",
    }


def test_a_book_too_small_to_measure_fairness_may_waive_only_the_missing_measure() -> None:
    gates = GATES.model_copy(update={"fairness_evidence": "when_measured"})
    waived = decide_promotion(_metrics(0.80, gap=None), None, gates)
    assert waived.promote
    (check,) = [c for c in waived.checks if c.name == "max_fairness_gap"]
    assert check.reason == "AUC gap between age bands was not measured (checked only when measured)"
    unfair = decide_promotion(_metrics(0.80, gap=0.2), None, gates)
    assert unfair.reasons == ["AUC gap between age bands 0.2000 exceeds 0.1000"]
