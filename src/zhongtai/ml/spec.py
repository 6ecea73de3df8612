"""Model specs: the ``ml/<family>.yml`` files a modeller edits, loaded as typed objects.

A spec says what a model family reads (a feature service or a mart), its label, which
features it must never use, the domain's monotone constraints, the selection thresholds,
the algorithms and their hyper-parameters, the score scaling, how it is validated, the
manual-review budget its threshold is set by (fraud) and the gates a challenger must pass
to become champion. The code in ``zhongtai.ml`` takes its decisions from here and nowhere
else.

This module stays light (pydantic, yaml, the settings' types): DAG files and the CLI
import it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from zhongtai.settings import Environment, Settings
from zhongtai.yaml_models import read_yaml_model

Algorithm = Literal["scorecard", "lightgbm"]
Filter = Literal["constant", "low_iv", "unstable", "correlated"]
FILTERS: tuple[Filter, ...] = ("constant", "low_iv", "unstable", "correlated")
Direction = Literal["increasing", "decreasing"]  # how the risk of default moves with a feature
Window = Literal["out_of_time", "holdout"]  # the out-of-sample rows a gate reads
MIN_JUSTIFICATION_WORDS = 5


class SpecError(ValueError):
    """A spec file that cannot be used: the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Strict):
    """Where the modelling rows come from: a Feast feature service or one mart."""

    feature_service: str | None = None
    mart: str | None = None
    key: str = Field(description="One row's identifier (never a feature).")
    date_column: str | None = Field(
        default=None, description="When the row happened: the out-of-time split's clock."
    )

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if (self.feature_service is None) == (self.mart is None):
            raise ValueError("give exactly one of feature_service or mart")
        return self


class FeaturesSpec(_Strict):
    include: list[str] | None = Field(
        default=None, description="The candidate features; none: every column of the source."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Columns that must never influence a score."
    )
    monotone: dict[str, Direction] = Field(
        default_factory=dict,
        description="Domain constraints: the risk of default rises (increasing) or falls "
        "(decreasing) with the feature, all else equal. Enforced by both algorithms.",
    )
    protected: dict[str, str] = Field(
        default_factory=dict,
        description="Columns the contracts mark protected (a protected characteristic or "
        "its proxy) that this model may nevertheless use as features, each with its written "
        "justification. Any other protected column is refused as a feature; a protected "
        "feature is never given as a reason code.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> FeaturesSpec:
        clash = sorted(set(self.monotone) & set(self.exclude))
        if clash:
            raise ValueError(f"{', '.join(clash)}: both excluded and constrained monotone")
        justified_and_excluded = sorted(set(self.protected) & set(self.exclude))
        if justified_and_excluded:
            raise ValueError(
                f"{', '.join(justified_and_excluded)}: both excluded and justified under protected"
            )
        thin = sorted(
            column
            for column, why in self.protected.items()
            if len(why.split()) < MIN_JUSTIFICATION_WORDS
        )
        if thin:
            raise ValueError(
                f"protected: {', '.join(thin)}: give a written justification (a sentence of "
                f"{MIN_JUSTIFICATION_WORDS} words or more: why the model may use it)"
            )
        if self.include is not None:
            unknown = sorted(set(self.monotone) - set(self.include))
            if unknown:
                raise ValueError(f"monotone features not in include: {', '.join(unknown)}")
            unlisted = sorted(set(self.protected) - set(self.include))
            if unlisted:
                raise ValueError(f"protected features not in include: {', '.join(unlisted)}")
            excluded = sorted(set(self.include) & set(self.exclude))
            if excluded:
                raise ValueError(f"{', '.join(excluded)}: both included and excluded")
        return self


class SelectionSpec(_Strict):
    """Thresholds of the feature selection (see ``zhongtai.ml.select``)."""

    min_iv: float = Field(ge=0, description="Drop a feature whose information value is lower.")
    max_correlation: float = Field(
        gt=0, le=1, description="Of two features correlated beyond this, drop the weaker."
    )
    max_psi: float = Field(
        gt=0, description="Drop a feature whose PSI, development vs out of time, is higher."
    )
    prefer: list[str] = Field(
        default_factory=list,
        description="Of two correlated features, one listed here stays whatever its IV "
        "(a ratio a policy reads, say, over the amount it is computed from).",
    )


class ScalingSpec(_Strict):
    """Points = ``points`` at good:bad odds of ``odds``:1; ``pdo`` more points double them."""

    points: float = Field(gt=0)
    odds: float = Field(gt=0)
    pdo: float = Field(gt=0)


class BinningSpec(_Strict):
    """optbinning's pre-binning and bin size limits, for every feature."""

    max_n_prebins: int = Field(default=20, ge=2)
    min_prebin_size: float = Field(default=0.05, gt=0, lt=1)
    max_n_bins: int | None = Field(default=None, ge=2)
    min_bin_size: float | None = Field(default=None, gt=0, lt=1)
    monotonic_trend: str = Field(
        default="auto_asc_desc",
        description="optbinning's event-rate trend for numeric features without a declared "
        "monotone direction.",
    )


class LogisticSpec(_Strict):
    C: float = Field(default=1.0, gt=0)
    max_iter: int = Field(default=1000, ge=1)


class ScorecardSpec(_Strict):
    filters: list[Filter] = Field(
        default_factory=lambda: list(FILTERS), description="The selection filters it uses."
    )
    binning: BinningSpec = BinningSpec()
    logistic_regression: LogisticSpec = LogisticSpec()


class LightGBMSpec(_Strict):
    filters: list[Filter] = Field(
        default_factory=lambda: list(FILTERS), description="The selection filters it uses."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="LGBMClassifier keyword arguments."
    )

    @model_validator(mode="after")
    def _seed_comes_from_the_spec(self) -> LightGBMSpec:
        managed = sorted({"random_state", "seed", "monotone_constraints"} & set(self.params))
        if managed:
            raise ValueError(
                f"{', '.join(managed)}: set by the spec (seed, features.monotone), not here"
            )
        return self


class AlgorithmsSpec(_Strict):
    scorecard: ScorecardSpec | None = None
    lightgbm: LightGBMSpec | None = None

    def enabled(self) -> list[Algorithm]:
        found: list[Algorithm] = []
        if self.scorecard is not None:
            found.append("scorecard")
        if self.lightgbm is not None:
            found.append("lightgbm")
        return found


class OutOfTimeSpec(_Strict):
    months: int = Field(ge=1, description="The last months of labelled rows, held out.")


class HoldoutSpec(_Strict):
    """Rows held out at random, for a book without application dates (a partner's).

    A row is held out when its key, hashed with the spec's seed, falls in the lowest
    ``share`` of the hash range: each record stays on its side whatever else the book
    gains or loses, so a champion trained on an earlier delivery is not measured on rows
    it learnt from (as long as the spec's seed and share stay).
    """

    share: float = Field(gt=0, lt=1, description="Share of the rows held out, in (0, 1).")


class CrossValidationSpec(_Strict):
    n_splits: int = Field(ge=2)
    n_repeats: int = Field(ge=1)


class ValidationSpec(_Strict):
    out_of_time: OutOfTimeSpec | None = None
    holdout: HoldoutSpec | None = None
    cross_validation: CrossValidationSpec | None = None

    @model_validator(mode="after")
    def _some_validation(self) -> ValidationSpec:
        if self.out_of_time is None and self.holdout is None and self.cross_validation is None:
            raise ValueError("give out_of_time or holdout, cross_validation, or both")
        if self.out_of_time is not None and self.holdout is not None:
            raise ValueError(
                "give out_of_time or holdout, not both: one out-of-sample window for the gate"
            )
        return self

    @property
    def window(self) -> Window | None:
        """The out-of-sample rows a model is measured and gated on (none: CV only)."""
        if self.out_of_time is not None:
            return "out_of_time"
        if self.holdout is not None:
            return "holdout"
        return None


class FairnessAttribute(_Strict):
    """How one column's rows are grouped for the fairness report: ``bands`` of a number,
    or for text each value its own group, unless ``groups`` names them or ``prefix``
    groups codes by their first characters (a division code's city: 4)."""

    bands: list[float] | None = Field(
        default=None,
        min_length=2,
        description="Band edges, ascending: [a, b, c] gives [a, b) and [b, c) (numbers).",
    )
    groups: dict[str, list[str]] | None = Field(
        default=None, description="Named groups of values (text); other values are outside."
    )
    prefix: int | None = Field(
        default=None, ge=1, description="Values grouped by their first characters (text)."
    )

    @model_validator(mode="after")
    def _one_grouping(self) -> FairnessAttribute:
        given = [k for k in ("bands", "groups", "prefix") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of bands, groups or prefix, got {' and '.join(given)}")
        if self.bands is not None and any(b <= a for a, b in pairwise(self.bands)):
            raise ValueError(f"bands must be strictly ascending, got {self.bands}")
        if self.groups is not None:
            values = [v for members in self.groups.values() for v in members]
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"groups: {', '.join(twice)} in more than one group")
            empty = sorted(name for name, members in self.groups.items() if not members)
            if empty:
                raise ValueError(f"groups: {', '.join(empty)} lists no value")
        return self


class FairnessSpec(_Strict):
    """The columns the fairness report (and the gate's fairness checks) break the model's
    discrimination down by: every protected column the data holds, at least."""

    attributes: dict[str, FairnessAttribute] = Field(
        min_length=1, description="Column → how its rows are grouped."
    )
    min_rows: int = Field(
        default=30, ge=1, description="A group with fewer rows is reported, not compared."
    )
    min_events: int = Field(
        default=1,
        ge=1,
        description="A group with fewer positives (defaulters) or negatives is reported, not "
        "compared: an AUC on a handful of defaulters is noise, not evidence.",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("attribute" in data or "bands" in data):
            raise ValueError(
                "attribute and bands are replaced by attributes, one entry per column "
                "(e.g. attributes: {age_years: {bands: [18, 25, 35]}, city_code: {prefix: 4}})"
                ": see ml/README.md"
            )
        return data


class ReviewSpec(_Strict):
    """The manual-review budget of a family whose score sends applications to review (fraud).

    The fraud team can look at a fixed share of applications, not at every one above a
    probability: so the threshold is set by the budget, as the score that sends ``rate`` of
    the development applications to review, and reported out of time (rate reached,
    recall, precision).
    """

    rate: float = Field(
        gt=0, lt=1, description="Share of applications the review team can take, in (0, 1)."
    )


Burden = Literal["model", "harm"]


class PromotionSpec(_Strict):
    """What a challenger must show, out of time, to replace the champion, and who carries
    the burden of proof in each environment (see ml/README.md)."""

    min_auc: float = Field(ge=0.5, le=1, description="The AUC any model must reach.")
    min_auc_gain: float = Field(ge=0, description="AUC gain over the champion, at least.")
    max_psi: float = Field(gt=0, description="Score PSI, development vs out of time, at most.")
    max_fairness_gap: float = Field(
        ge=0,
        le=1,
        description="Largest AUC difference between the groups of each fairness attribute.",
    )
    confidence: float = Field(
        default=0.95,
        ge=0.5,
        lt=1,
        description="Two-sided confidence of every interval the gate reads, in [0.5, 1).",
    )
    min_events: int = Field(
        default=30,
        ge=2,
        description="The out-of-time AUC and the gain over the champion are measurable only "
        "with at least this many defaulters and as many non-defaulters: fewer is noise.",
    )
    resamples: int = Field(
        default=1000, ge=100, description="Bootstrap resamples (fairness gap, score PSI)."
    )
    burden_of_proof: dict[Environment, Burden] = Field(
        default_factory=dict,
        description="Per environment: model (the model must show, by its interval, that it "
        "meets every limit; an unmeasurable check refuses) or harm (refused only on "
        "evidence, by its interval, that a limit is broken; an unmeasurable check passes). "
        "An environment not listed: model.",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "fairness_evidence" in data:
            raise ValueError(
                "fairness_evidence is replaced by burden_of_proof "
                "(e.g. {prod: model, dev: harm, test: harm}): see ml/README.md"
            )
        return data

    def burden(self, env: Environment) -> Burden:
        """Who carries the burden of proof in ``env``: the model unless the spec says harm."""
        return self.burden_of_proof.get(env, "model")


class ModelSpec(_Strict):
    """One model family: ``ml/<name>.yml``."""

    name: str
    description: str
    owner: str
    data: DataSpec
    label: str
    features: FeaturesSpec = FeaturesSpec()
    selection: SelectionSpec
    scaling: ScalingSpec
    algorithm: Algorithm = Field(description="The family's chosen algorithm (the headline).")
    algorithms: AlgorithmsSpec
    validation: ValidationSpec
    fairness: FairnessSpec | None = None
    review: ReviewSpec | None = None
    promotion: PromotionSpec | None = None
    seed: int = Field(ge=0, description="Every random choice (splits, models) starts here.")

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.algorithm not in self.algorithms.enabled():
            raise ValueError(
                f"algorithm {self.algorithm!r} has no entry under algorithms "
                f"(configured: {', '.join(self.algorithms.enabled()) or 'none'})"
            )
        reserved = {self.label, self.data.key}
        if self.data.date_column is not None:
            reserved.add(self.data.date_column)
        if self.features.include is not None:
            misused = sorted(reserved & set(self.features.include))
            if misused:
                raise ValueError(f"features.include holds {', '.join(misused)} (label/key/date)")
        if self.validation.out_of_time is not None and self.data.date_column is None:
            raise ValueError("validation.out_of_time needs data.date_column")
        if self.promotion is not None and self.validation.window is None:
            raise ValueError(
                "promotion needs rows to gate on: validation.out_of_time (with "
                "data.date_column) or, for a book without dates, validation.holdout"
            )
        return self

    def candidate_features(self, columns: list[str]) -> list[str]:
        """The features this spec lets a model consider among ``columns``, in their order.

        Raises KeyError naming the included features the columns lack.
        """
        reserved = {self.label, self.data.key, self.data.date_column, *self.features.exclude}
        if self.features.include is None:
            return [c for c in columns if c not in reserved]
        missing = [c for c in self.features.include if c not in columns]
        if missing:
            raise KeyError(f"{self.name}: the data has no column {', '.join(missing)}")
        return list(self.features.include)


def check_protected_features(
    spec: ModelSpec, candidates: Collection[str], protected: Mapping[str, Sequence[str]]
) -> None:
    """Refuse a protected column (``protected``: column → the characteristics the contracts
    say it carries) among the spec's ``candidates`` unless ``features.protected`` justifies
    it, and a justification that names no protected candidate (a stale or misspelt one).

    Raises SpecError naming each column and its characteristics.
    """
    problems = [
        f"feature {column} carries the protected characteristic "
        f"{', '.join(protected[column])}: exclude it (features.exclude) or name it under "
        "features.protected with a written justification"
        for column in candidates
        if column in protected and column not in spec.features.protected
    ]
    for column in spec.features.protected:
        if column not in protected:
            problems.append(
                f"features.protected justifies {column}, which no contract marks protected: "
                "remove the entry, or mark the field protected in its contract"
            )
        elif column not in candidates:
            problems.append(
                f"features.protected justifies {column}, which is not a candidate feature of "
                "the data: remove the entry"
            )
    if problems:
        raise SpecError("\n".join(f"{spec.name}: {problem}" for problem in problems))


def check_fairness_coverage(
    spec: ModelSpec, columns: Collection[str], protected: Mapping[str, Sequence[str]]
) -> None:
    """Refuse a gated spec whose fairness section leaves out a protected column of its
    data (``columns``), used as a feature or not: the gate must see each one.

    Raises SpecError naming each column left out and its characteristics.
    """
    covered = set(spec.fairness.attributes) if spec.fairness is not None else set()
    missing = [column for column in columns if column in protected and column not in covered]
    if missing:
        listed = ", ".join(f"{column} ({', '.join(protected[column])})" for column in missing)
        raise SpecError(
            f"{spec.name}: the data holds protected columns its fairness section does not "
            f"cover: {listed}; add each under fairness.attributes (bands for a number, its "
            "values, groups or a prefix for text)"
        )


def spec_path(name: str, settings: Settings | None = None) -> Path:
    """``ml/<name>.yml`` of the project."""
    return (settings or Settings()).ml_dir / f"{name}.yml"


def model_families(settings: Settings | None = None) -> tuple[str, ...]:
    """The model families of the project: one per ``ml/<family>.yml`` with promotion
    gates, trained, registered and gated by ``retrain`` (the CLI, the DAG)."""
    specs = sorted((settings or Settings()).ml_dir.glob("*.yml"))
    return tuple(path.stem for path in specs if load_spec(path).promotion is not None)


def families_reading(
    settings: Settings | None = None,
    *,
    marts: Collection[str] = (),
    feature_services: Collection[str] = (),
) -> tuple[str, ...]:
    """The model families whose spec reads one of ``marts`` (``data.mart``) or
    ``feature_services`` (``data.feature_service``): those a publication of them makes
    worth retraining."""
    return tuple(
        family
        for family in model_families(settings)
        if (spec := load_spec(family, settings)).data.mart in marts
        or spec.data.feature_service in feature_services
    )


def load_spec(name_or_path: str | Path, settings: Settings | None = None) -> ModelSpec:
    """A spec by family name (``credit_pd``) or by path.

    Raises SpecError naming the file, and for a bad value the field's dotted path.
    """
    path = Path(name_or_path)
    if path.suffix not in (".yml", ".yaml"):
        path = spec_path(str(name_or_path), settings)
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yml"))
        raise SpecError(f"{path}: no such spec; the specs are: {', '.join(known)}")
    spec = read_yaml_model(path, ModelSpec, SpecError)
    if spec.name != path.stem:
        raise SpecError(f"{path}: name: {spec.name!r} differs from the file name {path.stem!r}")
    return spec
