"""Retrain a model family end to end: rows → models → MLflow run → challenger → gate.

1. the spec's rows from the platform, split by application date (development, out of
   time);
2. every configured algorithm trained (``train_models``), exported to files that load
   without pickle, and evaluated *as exported*: what is registered is what was measured;
3. one MLflow run records data, selection, metrics, plots and models;
4. the spec's chosen algorithm becomes a new registered version, alias ``challenger``;
5. the champion, if any, is scored on the same out-of-time rows, and the promotion gate
   decides on the intervals of the evidence, under the burden of proof the spec gives
   the settings' environment; the decision and its evidence go to the run and the
   version either way, and only a passed gate moves ``champion``.

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

from zhongtai.ml.data import load_frame, split_out_of_time
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
)
from zhongtai.ml.scoring import ScoringModel, load_exported
from zhongtai.ml.spec import Algorithm, ModelSpec, SpecError, load_spec
from zhongtai.ml.train import FittedModel, TrainingResult, train_models
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
    if (
        spec.promotion is None
        or spec.validation.out_of_time is None
        or spec.data.date_column is None
    ):
        raise SpecError(
            f"{spec.name}: a registered model family needs validation.out_of_time and promotion"
        )
    progress(f"{spec.name}: reading the training rows")
    frame = load_frame(spec, settings)
    development, out_of_time, cut = split_out_of_time(
        frame, spec.data.date_column, spec.validation.out_of_time.months
    )
    progress(
        f"{spec.name}: {len(development):,} development rows before {cut:%Y-%m-%d}, "
        f"{len(out_of_time):,} out of time; training {', '.join(spec.algorithms.enabled())}"
    )
    result = train_models(spec, development, out_of_time)
    client = track.use_mlflow(settings)
    experiment = track.family_experiment(client, settings, spec.name)
    with tempfile.TemporaryDirectory() as folder, mlflow.start_run(experiment_id=experiment) as run:
        candidates = {
            algorithm: _candidate(spec, fitted, development, out_of_time, Path(folder) / algorithm)
            for algorithm, fitted in result.models.items()
        }
        progress(f"{spec.name}: logging the run to MLflow ({run.info.run_id})")
        model_uris = _log_run(spec, result, candidates, frame, development, out_of_time, cut)
        chosen = candidates[spec.algorithm]
        version = register_challenger(
            client,
            spec.name,
            model_uris[spec.algorithm],
            run.info.run_id,
            digest=files_digest(chosen.exported),
            description=spec.description,
            tags={"algorithm": spec.algorithm, "spec": spec.name, "label": spec.label},
        )
        champion_metrics, champion = _champion_on(client, spec, chosen.model, out_of_time)
        decision = decide_promotion(
            chosen.out_of_time, champion_metrics, spec.promotion, settings.env
        )
        _log_decision(client, spec.name, str(version.version), decision, champion)
        if decision.promote:
            promote(client, spec.name, str(version.version))
            champion = str(version.version)
    verdict = "promoted to champion" if decision.promote else "not promoted"
    progress(
        f"{spec.name} version {version.version}: {verdict} "
        f"(burden of proof in {decision.env}: {decision.burden})"
    )
    for line in decision.report:
        progress(f"  {line}")
    return RetrainOutcome(
        spec.name, run.info.run_id, str(version.version), decision, champion, chosen.out_of_time
    )


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
    intervals: dict[str, Any] = {"seed": spec.seed}
    if spec.promotion is not None:
        intervals |= {
            "confidence": spec.promotion.confidence,
            "resamples": spec.promotion.resamples,
        }
    development_metrics = evaluate_model(
        model,
        development,
        spec.label,
        fairness=spec.fairness,
        review_threshold=threshold,
        **intervals,
    )
    out_of_time_metrics = evaluate_model(
        model,
        out_of_time,
        spec.label,
        reference_scores=model.score(development),
        fairness=spec.fairness,
        review_threshold=threshold,
        **intervals,
    )
    return Candidate(fitted, model, exported, development_metrics, out_of_time_metrics)


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
    development: pd.DataFrame,
    out_of_time: pd.DataFrame,
    cut: pd.Timestamp,
) -> dict[Algorithm, str]:
    """Everything of the training run but the decision; returns each model's URI."""
    import mlflow
    import pyarrow as pa

    from zhongtai.ml import plots, track

    training_set = fingerprint(pa.Table.from_pandas(frame, preserve_index=False))
    mlflow.set_tags(
        {
            "family": spec.name,
            "algorithm": spec.algorithm,
            "label": spec.label,
            "feature_service": spec.data.feature_service or "",
            "mart": spec.data.mart or "",
            "training_set.fingerprint": training_set.checksum,
        }
    )
    mlflow.log_params(
        {
            "label": spec.label,
            "feature_service": spec.data.feature_service,
            "out_of_time.cut": f"{cut:%Y-%m-%d}",
            "out_of_time.months": spec.validation.out_of_time.months
            if spec.validation.out_of_time
            else None,
            "seed": spec.seed,
            "rows.development": len(development),
            "rows.out_of_time": len(out_of_time),
            "training_set.rows": training_set.rows,
        }
    )
    mlflow.log_text(
        yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False), f"spec/{spec.name}.yml"
    )
    track.log_dataset(development, f"{spec.name} development", spec.label, "development")
    track.log_dataset(out_of_time, f"{spec.name} out of time", spec.label, "out_of_time")
    uris: dict[Algorithm, str] = {}
    for algorithm, candidate in candidates.items():
        y_oot = out_of_time[spec.label].to_numpy()
        p_oot = candidate.model.predict_pd(out_of_time)
        mlflow.log_params(
            {f"{algorithm}.features": len(candidate.model.features)}
            | {f"{algorithm}.{k}": v for k, v in candidate.fitted.details.get("params", {}).items()}
        )
        mlflow.log_metrics(
            track.flat_metrics(f"{algorithm}.development", candidate.development)
            | track.flat_metrics(f"{algorithm}.out_of_time", candidate.out_of_time)
        )
        track.log_json(f"{algorithm}/selection.json", result.selections[algorithm].to_dict())
        track.log_json(f"{algorithm}/features.json", candidate.model.features)
        track.log_json(
            f"{algorithm}/evaluation.json",
            {"development": candidate.development, "out_of_time": candidate.out_of_time},
        )
        track.log_json(f"{algorithm}/details.json", candidate.fitted.details)
        title = f"{spec.name} {algorithm}, out of time"
        figures = {
            "roc": plots.roc_figure(y_oot, p_oot, title),
            "ks": plots.ks_figure(y_oot, p_oot, title),
            "calibration": plots.calibration_figure(candidate.out_of_time["calibration"], title),
            "score_distribution": plots.score_distribution_figure(
                {
                    "development": candidate.model.score(development),
                    "out of time": candidate.model.score(out_of_time),
                },
                f"{spec.name} {algorithm}",
            ),
        }
        if spec.review is not None:
            figures["precision_recall"] = plots.precision_recall_figure(
                y_oot, p_oot, title, threshold=candidate.model.metadata.get("review_threshold")
            )
        track.log_figures(figures, f"{algorithm}/plots")
        uris[algorithm] = track.log_model(
            algorithm, candidate.model, candidate.exported, development
        )
    return uris


def _log_decision(
    client: Any, family: str, version: str, decision: PromotionDecision, champion: str | None
) -> None:
    """The promotion decision, its checks and the champion it faced: on the run (as an
    artifact and tags) and on the version (tags), whatever the outcome."""
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
    mlflow.set_tags(tags)
    for key, value in tags.items():
        client.set_model_version_tag(family, version, key, value)
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
