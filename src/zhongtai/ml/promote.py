"""The promotion gate: a challenger replaces the champion only with out-of-time evidence.

Every check is recorded, passed or not, so the decision and its evidence can be logged
either way. A check whose evidence is missing fails: nothing is promoted on an unmeasured
metric.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from zhongtai.ml.spec import PromotionSpec


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float | None
    limit: float
    reason: str


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    checks: tuple[Check, ...]

    @property
    def reasons(self) -> list[str]:
        """Why it was refused (empty when promoted)."""
        return [check.reason for check in self.checks if not check.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"promote": self.promote, "checks": [asdict(check) for check in self.checks]}


def _at_least(name: str, value: float | None, limit: float, what: str) -> Check:
    if value is None:
        return Check(name, False, None, limit, f"{what} was not measured")
    passed = value >= limit
    verdict = "reaches" if passed else "falls short of"
    return Check(name, passed, value, limit, f"{what} {value:.4f} {verdict} {limit:.4f}")


def _at_most(name: str, value: float | None, limit: float, what: str) -> Check:
    if value is None:
        return Check(name, False, None, limit, f"{what} was not measured")
    passed = value <= limit
    verdict = "is within" if passed else "exceeds"
    return Check(name, passed, value, limit, f"{what} {value:.4f} {verdict} {limit:.4f}")


def _fairness_check(gap: float | None, gates: PromotionSpec) -> Check:
    what = "AUC gap between age bands"
    if gap is None and gates.fairness_evidence == "when_measured":
        reason = f"{what} was not measured (checked only when measured)"
        return Check("max_fairness_gap", True, None, gates.max_fairness_gap, reason)
    return _at_most("max_fairness_gap", gap, gates.max_fairness_gap, what)


def decide_promotion(
    challenger: dict[str, Any], champion: dict[str, Any] | None, gates: PromotionSpec
) -> PromotionDecision:
    """Decide on the challenger's out-of-time metrics (``evaluate_model``'s dictionary)
    against the champion's; with no champion yet, the gain check is waived."""
    auc = challenger.get("auc")
    fairness = challenger.get("fairness") or {}
    checks = [
        _at_least("min_auc", auc, gates.min_auc, "out-of-time AUC"),
        _at_most("max_psi", challenger.get("score_psi"), gates.max_psi, "score PSI"),
        _fairness_check(fairness.get("auc_gap"), gates),
    ]
    if champion is None:
        checks.append(
            Check(
                "min_auc_gain", True, None, gates.min_auc_gain, "no champion yet: nothing to beat"
            )
        )
    else:
        gain = None if auc is None or champion.get("auc") is None else auc - champion["auc"]
        checks.append(
            _at_least("min_auc_gain", gain, gates.min_auc_gain, "AUC gain over the champion")
        )
    return PromotionDecision(all(check.passed for check in checks), tuple(checks))
