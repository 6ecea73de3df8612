"""The promotion gate: a challenger replaces the champion only on out-of-sample evidence
(its out-of-time rows, or a holdout for a book without dates), read through its
confidence interval, never through its point estimate alone.

Each check reads a measure, its interval and its sample (rows, defaulters), and the spec
says, per environment, who carries the burden of proof:

- ``model``: the model must show it meets every limit: the interval's unfavourable end
  is within the limit (the AUC's lower bound reaches ``min_auc``, the gap's upper bound
  stays within ``max_fairness_gap``...). A check without enough evidence to measure
  refuses.
- ``harm``: the model is refused only on evidence that it breaks a limit: the
  interval's favourable end is beyond it (the AUC's upper bound falls short of
  ``min_auc``...). A check without enough evidence passes, saying so.

The gain over the champion reads the same way against ``min_auc_gain``: under ``harm``
a challenger is refused when even the upper bound of its gain falls short of the margin,
while a gain that noise cannot resolve lets the newer model through. A challenger that
scores every out-of-time row as the champion does (a retrain that reproduced it) has a
gain of exactly 0 on any sample, however thin: that is measured, and refused, so a
retrain never churns the champion.

The fairness limit is one check per fairness attribute of the spec (every protected
column of the data: age bands, a city, sex and marital status...), so a gap in one is
never averaged away by the others.

Every check is recorded, passed or not, with a one-line reason naming the measure, its
interval, its sample, the limit and the bound that decided.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from zhongtai.ml.spec import Burden, PromotionSpec
from zhongtai.settings import Environment


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    measurable: bool
    value: float | None
    interval: tuple[float, float] | None
    limit: float
    rows: int | None
    events: dict[str, int]  # defaulters and non-defaulters, per group where relevant
    burden: Burden
    reason: str


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    checks: tuple[Check, ...]
    env: Environment
    burden: Burden
    confidence: float

    @property
    def reasons(self) -> list[str]:
        """Why it was refused (empty when promoted)."""
        return [check.reason for check in self.checks if not check.passed]

    @property
    def report(self) -> list[str]:
        """Every check's verdict and reason, one line each, passed or not."""
        return [
            f"{'pass' if check.passed else 'FAIL'} {check.name}: {check.reason}"
            for check in self.checks
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "env": self.env,
            "burden": self.burden,
            "confidence": self.confidence,
            "checks": [asdict(check) for check in self.checks],
        }


@dataclass(frozen=True)
class _Evidence:
    """What one check reads: the measure, its interval, its sample, or why it has none."""

    value: float | None
    interval: tuple[float, float] | None
    rows: int | None
    events: dict[str, int]
    sample: str  # the sample in words: "5,210 rows, 412 defaulters"
    unmeasurable: str | None  # why it cannot be measured; none when it can


def _judge(
    name: str,
    what: str,
    evidence: _Evidence,
    limit: float,
    at_least: bool,
    burden: Burden,
    env: Environment,
    confidence: float,
) -> Check:
    def check(passed: bool, measurable: bool, reason: str) -> Check:
        return Check(
            name,
            passed,
            measurable,
            evidence.value,
            evidence.interval,
            limit,
            evidence.rows,
            evidence.events,
            burden,
            reason,
        )

    if evidence.unmeasurable is not None or evidence.value is None or evidence.interval is None:
        why = evidence.unmeasurable or "not measured"
        if burden == "harm":
            return check(
                True,
                False,
                f"{what} not measurable: {why}; passes: in {env} only evidence of harm refuses",
            )
        return check(
            False,
            False,
            f"{what} not measurable: {why}; refused: in {env} the "
            f"model must show it meets the limit {limit:.4f}",
        )
    low, high = evidence.interval
    said = (
        f"{what} {evidence.value:.4f} ({confidence:.0%} CI {low:.4f}–{high:.4f}; {evidence.sample})"
    )
    if at_least and burden == "model":
        passed = low >= limit
        verdict = (
            f"reaches {limit:.4f}: its lower bound does"
            if passed
            else f"is not shown to reach {limit:.4f}: its lower bound falls short"
        )
    elif at_least:
        passed = not high < limit
        verdict = (
            f"is not shown to fall short of {limit:.4f}: its upper bound reaches it"
            if passed
            else f"falls short of {limit:.4f}: its upper bound does too"
        )
    elif burden == "model":
        passed = high <= limit
        verdict = (
            f"is within {limit:.4f}: its upper bound is"
            if passed
            else f"is not shown to be within {limit:.4f}: its upper bound exceeds it"
        )
    else:
        passed = not low > limit
        verdict = (
            f"is not shown to exceed {limit:.4f}: its lower bound is within it"
            if passed
            else f"exceeds {limit:.4f}: its lower bound does too"
        )
    return check(passed, True, f"{said} {verdict}")


def _outcomes(defaulters: int | None, non_defaulters: int | None) -> dict[str, int]:
    if defaulters is None or non_defaulters is None:
        return {}
    return {"defaulters": defaulters, "non_defaulters": non_defaulters}


def _thin(metrics: dict[str, Any], min_events: int) -> str | None:
    """Why a sample is too thin for an AUC, or none when it is not."""
    rows, defaulters = metrics.get("rows"), metrics.get("defaulters")
    non_defaulters = metrics.get("non_defaulters")
    if rows is None or defaulters is None or non_defaulters is None:
        return "its sample was not reported"
    if defaulters < min_events:
        return (
            f"{defaulters:,} defaulters among {rows:,} rows, fewer than the {min_events} "
            "the spec asks"
        )
    if non_defaulters < min_events:
        return (
            f"{non_defaulters:,} non-defaulters among {rows:,} rows, fewer than the "
            f"{min_events} the spec asks"
        )
    return None


def _interval(bounds: Any) -> tuple[float, float] | None:
    return None if bounds is None else (float(bounds[0]), float(bounds[1]))


def _auc_evidence(metrics: dict[str, Any], gates: PromotionSpec, value_key: str) -> _Evidence:
    rows, defaulters = metrics.get("rows"), metrics.get("defaulters")
    return _Evidence(
        value=metrics.get(value_key),
        interval=_interval(metrics.get(f"{value_key}_interval")),
        rows=rows,
        events=_outcomes(defaulters, metrics.get("non_defaulters")),
        sample=f"{rows or 0:,} rows, {defaulters or 0:,} defaulters",
        unmeasurable=_thin(metrics, gates.min_events),
    )


def _psi_evidence(metrics: dict[str, Any], window: str) -> _Evidence:
    rows, reference = metrics.get("rows"), metrics.get("rows_reference")
    unmeasurable = None if "score_psi" in metrics else "no development scores to compare with"
    where = "out of time" if window == "out of time" else f"in the {window}"
    return _Evidence(
        value=metrics.get("score_psi"),
        interval=_interval(metrics.get("score_psi_interval")),
        rows=rows,
        events={},
        sample=f"{rows or 0:,} rows {where} against {reference or 0:,} in development",
        unmeasurable=unmeasurable,
    )


def _fairness_evidence(report: dict[str, Any]) -> _Evidence:
    """What one attribute's fairness check reads: its gap, interval and groups."""
    groups = report.get("groups", [])
    events = {}
    for group in groups:
        events[f"{group['group']} defaulters"] = group.get("defaulters", 0)
        events[f"{group['group']} non_defaulters"] = group.get("non_defaulters", 0)
    compared = [group for group in groups if group.get("compared")]
    rows = sum(group["rows"] for group in compared)
    kind = report.get("kind", "groups")
    unmeasurable = None
    if report.get("auc_gap") is None:
        counts = ", ".join(f"{group['group']} {group.get('defaulters', 0)}" for group in groups)
        unmeasurable = (
            f"{len(compared)} of {len(groups)} {kind} hold {report.get('min_rows')} rows with "
            f"{report.get('min_events')} defaulters and as many non-defaulters, a gap needs "
            f"two (defaulters per {kind.removesuffix('s')}: {counts or 'none'})"
        )
    fewest = min(compared, key=lambda group: group.get("defaulters", 0), default=None)
    sample = f"{len(compared)} {kind}, {rows:,} rows"
    if fewest is not None:
        sample += f", fewest defaulters {fewest.get('defaulters', 0):,} in {fewest['group']}"
    return _Evidence(
        value=report.get("auc_gap"),
        interval=_interval(report.get("auc_gap_interval")),
        rows=rows,
        events=events,
        sample=sample,
        unmeasurable=unmeasurable,
    )


def decide_promotion(
    challenger: dict[str, Any],
    champion: dict[str, Any] | None,
    gates: PromotionSpec,
    env: Environment,
    window: str = "out of time",
) -> PromotionDecision:
    """Decide on the challenger's metrics on the held-out rows (``evaluate_model``'s
    dictionary; ``window`` names them: "out of time", "holdout") and its comparison with
    the champion on the same rows (``champion_comparison``'s; none: no champion yet, the
    gain check is waived), under the burden of proof the spec gives ``env``.

    The fairness limit is checked for each attribute of the report, one check each
    (``max_fairness_gap.<column>``)."""
    burden = gates.burden(env)
    confidence = gates.confidence

    def judge(name: str, what: str, evidence: _Evidence, limit: float, at_least: bool) -> Check:
        return _judge(name, what, evidence, limit, at_least, burden, env, confidence)

    checks = [
        judge(
            "min_auc",
            f"{window.replace(' ', '-')} AUC",
            _auc_evidence(challenger, gates, "auc"),
            gates.min_auc,
            at_least=True,
        ),
        judge(
            "max_psi",
            "score PSI",
            _psi_evidence(challenger, window),
            gates.max_psi,
            at_least=False,
        ),
    ]
    reports: dict[str, dict[str, Any]] = challenger.get("fairness") or {}
    if not reports:
        checks.append(
            judge(
                "max_fairness_gap",
                "AUC gap between groups",
                _Evidence(None, None, None, {}, "", "the spec has no fairness attribute"),
                gates.max_fairness_gap,
                at_least=False,
            )
        )
    for attribute, report in reports.items():
        checks.append(
            judge(
                f"max_fairness_gap.{attribute}",
                f"AUC gap between {attribute} {report.get('kind', 'groups')}",
                _fairness_evidence(report),
                gates.max_fairness_gap,
                at_least=False,
            )
        )
    if champion is None:
        checks.append(
            Check(
                "min_auc_gain",
                True,
                False,
                None,
                None,
                gates.min_auc_gain,
                None,
                {},
                burden,
                "no champion yet: nothing to beat",
            )
        )
    else:
        evidence = _auc_evidence(champion, gates, "auc_gain")
        if champion.get("identical"):
            rows = champion.get("rows") or 0
            evidence = _Evidence(
                0.0,
                (0.0, 0.0),
                rows,
                evidence.events,
                f"the challenger scores all {rows:,} rows as the champion does",
                None,
            )
        if champion.get("error"):
            evidence = _Evidence(
                None, None, None, {}, "", f"the champion could not be scored ({champion['error']})"
            )
        checks.append(
            judge(
                "min_auc_gain",
                "AUC gain over the champion",
                evidence,
                gates.min_auc_gain,
                at_least=True,
            )
        )
    promote = all(check.passed for check in checks)
    return PromotionDecision(promote, tuple(checks), env, burden, confidence)
