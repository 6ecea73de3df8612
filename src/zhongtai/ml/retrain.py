"""Retrain a model family end to end: rows → models → MLflow run → challenger → gate.

1. the spec's rows from the platform (a protected feature it does not justify, or a
   protected column its fairness section leaves out, is refused), split as the spec says:
   by application date (development, out of time), or for a book without dates by a
   holdout chosen by each row's key; "out of time" below stands for either;
2. every configured algorithm trained (``train_models``), exported to files that load
   without pickle, and evaluated *as exported*: what is registered is what was measured;
3. one MLflow run records data, selection, metrics, plots and models;
4. the spec's chosen algorithm becomes a new registered version, alias ``challenger``;
5. the champion, if any, is scored on the same out-of-time rows, and the promotion gate
   decides on the intervals of the evidence, under the burden of proof the spec gives
   the settings' environment; the decision and its evidence go to the run and the
   version either way, and only a passed gate moves ``champion``, with a promotion
   record signed by the platform key (``zhongtai.ml.signing``) over the version's files
   and code: the decision API serves nothing else.

``regate`` re-runs the gate on a version already registered (``zhongtai models promote``):
measured again on today's held-out rows, against today's champion, and promoted with its
signed record if it passes: how a champion promoted before signed records is served again.

Same spec, same data: same models and metrics (seeds come from the spec).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from zhongtai.ml.data import Split, load_frame, split_for_validation
from zhongtai.ml.evaluate import (
    CONFIDENCE,
    champion_comparison,
    evaluate_model,
    review_threshold,
)
from zhongtai.ml.export import export_model
from zhongtai.ml.promote import PromotionDecision, decide_promotion
from zhongtai.ml.register import (
    CHAMPION,
    EXPORT_ARTIFACT,
    ModelNotRegistered,
    files_digest,
    load_registered,
    promote,
    register_challenger,
    version_digests,
)
from zhongtai.ml.scoring import ScoringModel, load_exported
from zhongtai.ml.signing import PromotionRecord
from zhongtai.ml.spec import Algorithm, ModelSpec, SpecError, load_spec
from zhongtai.ml.train import FittedModel, TrainingResult, train_models
from zhongtai.privacy.keys import promotion_signing_key, resolve_keyring
from zhongtai.settings import Settings
from zhongtai.warehouse.fingerprint import fingerprint


@dataclass(frozen=True)
class RetrainOutcome:
    family: str
    run_id: str
    version: str
    decision: PromotionDecision
    champion: str | None  # the champion version after the decision
    metrics: dict[str, Any]  # the challenger's out-of-time metrics

    @property
    def promoted(self) -> bool:
        return self.decision.promote


@dataclass(frozen=True)
class Candidate:
    """One algorithm's model, exported, with the metrics of its exported form."""

    fitted: FittedModel
    model: ScoringModel
    exported: Path
    development: dict[str, Any]
    out_of_time: dict[str, Any]


def retrain(
    family: str | ModelSpec, settings: Settings, progress: Callable[[str], None] = print
) -> RetrainOutcome:
    """Train, track, register and gate one model family (``ml/<family>.yml``)."""
    import mlflow

    from zhongtai.ml import track

    spec = family if isinstance(family, ModelSpec) else load_spec(family, settings)
    if spec.promotion is None:
        raise SpecError(
            f"{spec.name}: no promotion section, so no gate to register it through: add one "
            "(ml/README.md); `zhongtai models cv` validates a spec without"
        )
    progress(f"{spec.name}: reading the training rows")
    frame = load_frame(spec, settings)
    split = split_for_validation(spec, frame)
    # the rows held out (out of time, or the holdout of a book without dates)
    development, out_of_time = split.development, split.held_out
    progress(f"{spec.name}: {split.describe()}; training {', '.join(spec.algorithms.enabled())}")
    # stability (PSI) is a matter of time: a random holdout has none to measure
    result = train_models(spec, development, out_of_time if split.window == "out_of_time" else None)
    client = track.use_mlflow(settings)
    experiment = track.family_experiment(client, settings, spec.name)
    with tempfile.TemporaryDirectory() as folder, mlflow.start_run(experiment_id=experiment) as run:
        candidates = {
            algorithm: _candidate(spec, fitted, development, out_of_time, Path(folder) / algorithm)
            for algorithm, fitted in result.models.items()
        }
        progress(f"{spec.name}: logging the run to MLflow ({run.info.run_id})")
        model_uri = _log_run(spec, result, candidates, frame, split)
        chosen = candidates[spec.algorithm]
        version = register_challenger(
            client,
            spec.name,
            model_uri,
            run.info.run_id,
            digest=files_digest(chosen.exported),
            description=spec.description,
            tags={"algorithm": spec.algorithm, "spec": spec.name, "label": spec.label},
        )
        champion_metrics, champion = _champion_on(client, spec, chosen.model, out_of_time)
        decision = decide_promotion(
            chosen.out_of_time, champion_metrics, spec.promotion, settings.env, split.name
        )
        _log_decision(client, spec.name, str(version.version), decision, champion)
        if decision.promote:
            _promote(client, settings, spec.name, str(version.version), run.info.run_id, decision)
            champion = str(version.version)
    _report(spec.name, str(version.version), decision, progress)
    return RetrainOutcome(
        spec.name, run.info.run_id, str(version.version), decision, champion, chosen.out_of_time
    )


def regate(
    family: str | ModelSpec,
    version: str,
    settings: Settings,
    progress: Callable[[str], None] = print,
) -> RetrainOutcome:
    """Re-run the promotion gate on registered ``version`` of ``family``: its model as
    registered (files checked against their digest), measured on today's held-out rows
    against today's champion (none when it is the champion itself), and promoted with a
    signed record if the gate passes. Raises ModelNotRegistered for a version that is not
    a complete registration."""
    import mlflow

    from zhongtai.ml import track

    spec = family if isinstance(family, ModelSpec) else load_spec(family, settings)
    if spec.promotion is None:
        raise SpecError(f"{spec.name}: no promotion section, so no gate to promote it through")
    client = track.use_mlflow(settings)
    registered = load_registered(client, spec.name, version=version)
    progress(f"{spec.name} version {registered.version}: re-running its gate")
    split = split_for_validation(spec, load_frame(spec, settings))
    model = registered.model
    metrics = _measure(
        spec,
        model,
        split.held_out,
        model.metadata.get("review_threshold"),
        reference=split.development,
    )
    champion_metrics, champion = _champion_on(client, spec, model, split.held_out)
    if champion == registered.version:  # the champion itself: nothing to beat but the gate
        champion_metrics, champion = None, None
    decision = decide_promotion(metrics, champion_metrics, spec.promotion, settings.env, split.name)
    with mlflow.start_run(run_id=registered.run_id):
        _log_decision(client, spec.name, registered.version, decision, champion)
    if decision.promote:
        _promote(client, settings, spec.name, registered.version, registered.run_id, decision)
        champion = registered.version
    _report(spec.name, registered.version, decision, progress)
    return RetrainOutcome(
        spec.name, registered.run_id, registered.version, decision, champion, metrics
    )


def _promote(
    client: Any,
    settings: Settings,
    family: str,
    version: str,
    run_id: str,
    decision: PromotionDecision,
) -> None:
    """Move ``champion`` to ``version`` with the gate's record, signed with the platform
    key, over the files and code the registry holds for it (as the API will load them)."""
    files, code = version_digests(client, family, version)
    record = PromotionRecord(
        model=family,
        version=version,
        run_id=run_id,
        promote=decision.promote,
        env=decision.env,
        burden=decision.burden,
        reasons=tuple(decision.reasons),
        report=tuple(decision.report),
        files_digest=files,
        code_digest=code,
        signed_at=settings.now().isoformat(timespec="seconds"),
    )
    key = promotion_signing_key(resolve_keyring(settings, announce=lambda _: None))
    promote(client, record, key)


def _report(
    family: str, version: str, decision: PromotionDecision, progress: Callable[[str], None]
) -> None:
    verdict = "promoted to champion" if decision.promote else "not promoted"
    progress(
        f"{family} version {version}: {verdict} "
        f"(burden of proof in {decision.env}: {decision.burden})"
    )
    for line in decision.report:
        progress(f"  {line}")


def _candidate(
    spec: ModelSpec,
    fitted: FittedModel,
    development: pd.DataFrame,
    out_of_time: pd.DataFrame,
    folder: Path,
) -> Candidate:
    """Export ``fitted`` (with its review threshold, for a family with a review budget)
    and measure the exported model on both samples."""
    metadata: dict[str, Any] = {
        "family": spec.name,
        "label": spec.label,
        "feature_service": spec.data.feature_service,
    }
    threshold = None
    if spec.review is not None:
        threshold = review_threshold(fitted.predict_pd(development), spec.review.rate)
        metadata["review_threshold"] = threshold
        metadata["review_rate"] = spec.review.rate
    folder.mkdir(parents=True)
    exported = export_model(fitted, folder / EXPORT_ARTIFACT, metadata)
    model = load_exported(exported)
    development_metrics = _measure(spec, model, development, threshold)
    out_of_time_metrics = _measure(spec, model, out_of_time, threshold, reference=development)
    return Candidate(fitted, model, exported, development_metrics, out_of_time_metrics)


def _measure(
    spec: ModelSpec,
    model: ScoringModel,
    rows: pd.DataFrame,
    threshold: float | None,
    reference: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """A model's metrics on ``rows``, with the intervals the spec's gate reads (and its
    score stability against ``reference``, the development rows)."""
    intervals: dict[str, Any] = {"seed": spec.seed}
    if spec.promotion is not None:
        intervals |= {
            "confidence": spec.promotion.confidence,
            "resamples": spec.promotion.resamples,
        }
    return evaluate_model(
        model,
        rows,
        spec.label,
        reference_scores=None if reference is None else model.score(reference),
        fairness=spec.fairness,
        review_threshold=threshold,
        **intervals,
    )


def _champion_on(
    client: Any, spec: ModelSpec, challenger: ScoringModel, out_of_time: pd.DataFrame
) -> tuple[dict[str, Any] | None, str | None]:
    """The champion against the challenger on today's out-of-time rows: its AUC and the
    challenger's paired AUC gain over it (None: no champion).

    A champion that cannot be scored yields no gain, with the error: the gate reads it as
    a check that cannot be measured.
    """
    try:
        champion = load_registered(client, spec.name, alias=CHAMPION)
    except ModelNotRegistered:
        return None, None
    confidence = spec.promotion.confidence if spec.promotion is not None else CONFIDENCE
    try:
        comparison = champion_comparison(
            challenger, champion.model, out_of_time, spec.label, confidence
        )
    except (KeyError, ValueError) as error:
        return {"auc": None, "auc_gain": None, "error": str(error)}, champion.version
    return comparison, champion.version


def _log_run(
    spec: ModelSpec,
    result: TrainingResult,
    candidates: dict[Algorithm, Candidate],
    frame: pd.DataFrame,
    split: Split,
) -> str:
    """Everything of the training run (the active one) but the decision: each candidate
    in a child run of its own, under the same metric names; then, in this parent run, the
    spec, the data and the chosen model with its metrics. Returns the chosen model's URI."""
    import mlflow
    import pyarrow as pa

    from zhongtai.ml import track

    development, out_of_time = split.development, split.held_out
    training_set = fingerprint(pa.Table.from_pandas(frame, preserve_index=False))
    tags = {
        "family": spec.name,
        "algorithm": spec.algorithm,
        "label": spec.label,
        "feature_service": spec.data.feature_service or "",
        "mart": spec.data.mart or "",
    }
    mlflow.set_tags(tags | {"training_set.fingerprint": training_set.checksum})
    mlflow.log_params(
        {
            "algorithm": spec.algorithm,
            "label": spec.label,
            "feature_service": spec.data.feature_service,
            "validation.window": split.window,
            **split.params,
            "seed": spec.seed,
            "rows.development": len(development),
            f"rows.{split.window}": len(out_of_time),
            "training_set.rows": training_set.rows,
        }
    )
    mlflow.log_text(
        yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False), f"spec/{spec.name}.yml"
    )
    track.log_dataset(development, f"{spec.name} development", spec.label, "development")
    track.log_dataset(out_of_time, f"{spec.name} {split.name}", spec.label, split.window)
    parent = mlflow.active_run()
    assert parent is not None
    for algorithm, candidate in candidates.items():
        # in the parent's experiment (a nested run goes to the active experiment otherwise)
        with mlflow.start_run(
            run_name=algorithm, nested=True, experiment_id=parent.info.experiment_id
        ) as child:
            mlflow.set_tags(tags | {"algorithm": algorithm})
            _log_candidate(spec, result, algorithm, candidate, split)
        if algorithm == spec.algorithm:
            mlflow.set_tag("chosen_run_id", child.info.run_id)
    chosen = candidates[spec.algorithm]
    model = track.log_model(spec.name, chosen.model, chosen.exported, development)
    mlflow.log_metrics(_candidate_metrics(chosen, split), model_id=model.model_id)
    return str(model.model_uri)


def _candidate_metrics(candidate: Candidate, split: Split) -> dict[str, float]:
    """A candidate's metrics, named alike whatever its algorithm: ``development.auc`` and,
    on the held-out rows, ``out_of_time.auc`` (or ``holdout.auc``)."""
    from zhongtai.ml import track

    return track.flat_metrics("development", candidate.development) | track.flat_metrics(
        split.window, candidate.out_of_time
    )


def _log_candidate(
    spec: ModelSpec,
    result: TrainingResult,
    algorithm: Algorithm,
    candidate: Candidate,
    split: Split,
) -> None:
    """One algorithm's candidate, in the active (child) run: its parameters, selection,
    evaluation, plots, model, and its metrics, linked to that model."""
    import mlflow

    from zhongtai.ml import plots, track

    development, out_of_time = split.development, split.held_out
    y_oot = out_of_time[spec.label].to_numpy()
    p_oot = candidate.model.predict_pd(out_of_time)
    mlflow.log_params(
        {"algorithm": algorithm, "features": len(candidate.model.features)}
        | dict(candidate.fitted.details.get("params", {}))
    )
    track.log_json("selection.json", result.selections[algorithm].to_dict())
    track.log_json("features.json", candidate.model.features)
    track.log_json(
        "evaluation.json",
        {"development": candidate.development, split.window: candidate.out_of_time},
    )
    track.log_json("details.json", candidate.fitted.details)
    title = f"{spec.name} {algorithm}, {split.name}"
    figures = {
        "roc": plots.roc_figure(y_oot, p_oot, title),
        "ks": plots.ks_figure(y_oot, p_oot, title),
        "calibration": plots.calibration_figure(candidate.out_of_time["calibration"], title),
        "score_distribution": plots.score_distribution_figure(
            {
                "development": candidate.model.score(development),
                split.name: candidate.model.score(out_of_time),
            },
            f"{spec.name} {algorithm}",
        ),
    }
    if spec.review is not None:
        figures["precision_recall"] = plots.precision_recall_figure(
            y_oot, p_oot, title, threshold=candidate.model.metadata.get("review_threshold")
        )
    track.log_figures(figures, "plots")
    model = track.log_model(algorithm, candidate.model, candidate.exported, development)
    mlflow.log_metrics(_candidate_metrics(candidate, split), model_id=model.model_id)


def _log_decision(
    client: Any, family: str, version: str, decision: PromotionDecision, champion: str | None
) -> None:
    """The promotion decision, its checks and the champion it faced: on the run (as an
    artifact, tags and metrics; the run is named for the version) and on the version (tags,
    and its description, which the registry shows), whatever the outcome."""
    import mlflow

    from zhongtai.ml import track

    record = {
        "version": version,
        "champion_before": champion,
        **decision.to_dict(),
        "report": decision.report,
    }
    track.log_json("promotion/decision.json", record)
    outcome = "promoted" if decision.promote else "refused"
    tags = {
        "promotion": outcome,
        "promotion.reasons": "; ".join(decision.reasons) or "all checks passed",
        "promotion.env": decision.env,
        "promotion.burden": decision.burden,
        "promotion.checks": "\n".join(decision.report),
    }
    mlflow.set_tags(tags | {"mlflow.runName": f"{family} v{version}"})
    for key, value in tags.items():
        client.set_model_version_tag(family, version, key, value)
    verdict = "promoted to champion" if decision.promote else "refused"
    faced = f"champion v{champion}" if champion is not None else "no champion"
    client.update_model_version(
        family,
        version,
        description=f"Promotion gate: {verdict} (against {faced}; burden of proof in "
        f"{decision.env}: {decision.burden}).\n\n"
        + "\n".join(f"- {line}" for line in decision.report),
    )
    figures: dict[str, float] = {}
    for check in decision.checks:
        figures[f"promotion.{check.name}.passed"] = float(check.passed)
        figures[f"promotion.{check.name}.measurable"] = float(check.measurable)
        if check.value is not None:
            figures[f"promotion.{check.name}.value"] = check.value
        if check.interval is not None:
            figures[f"promotion.{check.name}.low"], figures[f"promotion.{check.name}.high"] = (
                check.interval
            )
    mlflow.log_metrics(figures)
