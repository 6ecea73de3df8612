"""``zhongtai models``: train and gate the model families of ml/, browse the registry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from zhongtai.cli.common import console
from zhongtai.settings import Settings

if TYPE_CHECKING:
    from zhongtai.ml.spec import ModelSpec

app = typer.Typer(
    help="Credit, fraud and partner models: cross-validation, training, the MLflow "
    "registry and its UI.",
    no_args_is_help=True,
)


@app.command("train")
def train_models(
    families: Annotated[
        list[str] | None,
        typer.Argument(
            help="Model families of ml/ by name, or spec files (default: every spec of ml/ "
            "with a promotion section)."
        ),
    ] = None,
) -> None:
    """Train, track, register and gate model families (outside Airflow; the DAG is
    train_models). Exit 1 when a family could not be trained (its error is printed)."""
    from zhongtai.ml.spec import SpecError, model_families

    settings = Settings()
    known = model_families(settings)
    specs = [_family_spec(name, known, settings) for name in families or ()]
    from zhongtai.ml.data import NoTrainingRows  # seconds of imports: after a typo is refused
    from zhongtai.ml.retrain import retrain

    failed = []
    for family in specs or known:
        name = family if isinstance(family, str) else family.name
        try:
            retrain(family, settings, progress=console.print)
        except NoTrainingRows as empty:
            if specs:  # asked for by name: it could not be trained
                console.print(f"[red]{empty}")
                failed.append(name)
            else:
                console.print(f"[yellow]{empty}: skipped")
        except (SpecError, FileNotFoundError, KeyError, ValueError) as error:
            console.print(f"[red]{name}: not trained: {error}")
            failed.append(name)
    print_champions(settings)
    if failed:
        console.print(f"[red]not trained: {', '.join(failed)}")
        raise typer.Exit(1)


def _family_spec(name: str, known: tuple[str, ...], settings: Settings) -> str | ModelSpec:
    """A family of ml/ (its name) or a spec file (the spec, loaded); BadParameter for an
    unknown family, a spec without a promotion section or a spec file that is wrong."""
    from zhongtai.ml.spec import SpecError, load_spec, spec_path

    if Path(name).suffix in (".yml", ".yaml"):
        try:
            spec = load_spec(Path(name), settings)
        except SpecError as error:
            raise typer.BadParameter(str(error)) from error
        if spec.promotion is None:
            raise typer.BadParameter(_no_gate(spec.name, name))
        return spec
    if name not in known:
        if spec_path(name, settings).is_file():
            raise typer.BadParameter(_no_gate(name, name))
        raise typer.BadParameter(
            f"unknown model family {name!r}: the families of ml/ are {', '.join(known)}"
        )
    return name


def _no_gate(family: str, given: str) -> str:
    return (
        f"{family} has no promotion section, so no gate to register it through: add one "
        f"(ml/README.md); `zhongtai models cv {given}` cross-validates it as it is"
    )


@app.command("cv")
def cross_validate(
    spec: Annotated[
        str, typer.Argument(help="A spec of ml/ by name (german_credit), or a spec file.")
    ],
    splits: Annotated[
        int | None, typer.Option(min=2, help="Folds (default: the spec's n_splits).")
    ] = None,
    repeats: Annotated[
        int | None, typer.Option(min=1, help="Repeats (default: the spec's n_repeats).")
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the whole report here (JSON).")
    ] = None,
) -> None:
    """Repeated stratified k-fold cross-validation of any spec, as its
    validation.cross_validation says: each metric's mean and spread over the folds, for
    every algorithm of the spec, and each fold's AUC. Nothing is registered."""
    import json

    from zhongtai.ml.spec import CrossValidationSpec, SpecError, load_spec

    settings = Settings()
    try:
        loaded = load_spec(Path(spec) if Path(spec).suffix in (".yml", ".yaml") else spec, settings)
    except SpecError as error:
        raise typer.BadParameter(str(error)) from error
    folds = loaded.validation.cross_validation
    if splits is not None or repeats is not None:
        folds = CrossValidationSpec(
            n_splits=splits or (folds.n_splits if folds else 5),
            n_repeats=repeats or (folds.n_repeats if folds else 1),
        )
    if folds is None:
        raise typer.BadParameter(
            f"{loaded.name} has no validation.cross_validation: give --splits and --repeats"
        )
    from zhongtai.ml.data import NoTrainingRows  # seconds of imports: after a typo is refused
    from zhongtai.ml.validate import cross_validate_spec

    console.print(
        f"{loaded.name}: {folds.n_repeats} x {folds.n_splits} repeated stratified "
        f"cross-validation (seed {loaded.seed}), {', '.join(loaded.algorithms.enabled())}"
    )
    try:
        report = cross_validate_spec(loaded, settings, folds)
    except (SpecError, NoTrainingRows, FileNotFoundError, KeyError, ValueError) as error:
        console.print(f"[red]{loaded.name}: not cross-validated: {error}")
        raise typer.Exit(1) from error
    print_cross_validation(report)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        console.print(f"report: {json_path}")


def print_cross_validation(report: dict[str, Any]) -> None:
    """A cross-validation report (``cross_validate_spec``'s) as tables."""
    folds = report["n_splits"] * report["n_repeats"]
    console.print(
        f"{report['spec']}: {report['rows']:,} rows of {report['source']}, "
        f"{report['default_rate']:.1%} with {report['label']}, "
        f"{report['candidate_features']} candidate features; {folds} folds"
    )
    algorithms = report["algorithms"]
    headers = [f"{name} (chosen)" if name == report["algorithm"] else name for name in algorithms]
    table = Table("metric", *headers, title=f"{report['spec']}: mean ± std over {folds} folds")
    for metric, shown in (
        ("auc", "AUC"),
        ("gini", "Gini"),
        ("ks", "KS"),
        ("auprc", "AUPRC"),
        ("brier", "Brier"),
    ):
        table.add_row(
            shown,
            *(
                f"{figures[f'{metric}_mean']:.4f} ± {figures[f'{metric}_std']:.4f}"
                for figures in algorithms.values()
            ),
        )
    console.print(table)
    for name, figures in algorithms.items():
        console.print(f"{name} AUC by fold: {' '.join(f'{auc:.4f}' for auc in figures['folds'])}")
    for name, dropped in report["dropped_in_folds"].items():
        if dropped:
            counts = "; ".join(
                f"{feature} ({', '.join(f'{reason} {n}' for reason, n in reasons.items())})"
                for feature, reasons in dropped.items()
            )
            console.print(f"{name} dropped, folds by reason: {counts}")


@app.command("promote")
def promote_version(
    family: Annotated[str, typer.Argument(help="A model family of ml/ by name.")],
    version: Annotated[str, typer.Argument(help="Its registered version (a number).")],
) -> None:
    """Re-run the promotion gate on a registered version, on today's held-out rows and
    against today's champion; a pass makes it the champion with a signed promotion record.

    The decision API serves only versions the gate promoted with a record signed by the
    platform key: a champion promoted before signed records, or an alias set by hand, is
    refused until its gate is re-run here. Exit 1 when the gate refuses it."""
    from zhongtai.ml.spec import model_families

    settings = Settings()
    spec = _family_spec(family, model_families(settings), settings)
    from zhongtai.ml.data import NoTrainingRows  # seconds of imports: after a typo is refused
    from zhongtai.ml.register import ModelNotRegistered
    from zhongtai.ml.retrain import regate

    try:
        outcome = regate(spec, version, settings, progress=console.print)
    except (ModelNotRegistered, NoTrainingRows, FileNotFoundError, KeyError, ValueError) as error:
        console.print(f"[red]{family} v{version}: not promoted: {error}")
        raise typer.Exit(1) from error
    if not outcome.promoted:
        raise typer.Exit(1)


@app.command("list")
def list_models() -> None:
    """Registered versions of each model family, their aliases and promotion outcome."""
    print_champions(Settings(), every_version=True)


@app.command("ui")
def models_ui(
    port: Annotated[int, typer.Option(help="Port of the MLflow UI.")] = 5000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """The MLflow UI over the platform's tracking store and registry, read-only: MLflow
    listens on a private port, and a gateway on PORT passes reads and refuses every write
    (an alias, a tag, a run), so aliases move only through `zhongtai models promote`."""
    from zhongtai.ml.registry_ui import serve_read_only_ui

    serve_read_only_ui(Settings(), host, port, announce=console.print)


def print_promotions(settings: Settings) -> list[str]:
    """Each family's latest promotion decision, one line per check; returns the families
    the decision API scores with (credit_pd, fraud) that are left without a champion.

    Another family (a partner's book) without a champion is reported, not returned: no
    decision waits for it."""
    from zhongtai.decision.champions import FAMILIES
    from zhongtai.ml.spec import model_families
    from zhongtai.ml.track import use_mlflow
    from zhongtai.privacy.keys import promotion_signing_key, resolve_keyring

    client = use_mlflow(settings)
    key = promotion_signing_key(resolve_keyring(settings, announce=lambda _: None))
    without_champion = []
    for family in model_families(settings):
        served = family in FAMILIES
        versions = client.search_model_versions(f"name = '{family}'")
        if not versions:
            console.print(f"[{'red' if served else 'yellow'}]{family}: no version registered")
            if served:
                without_champion.append(family)
            continue
        latest = max(versions, key=lambda v: int(v.version))
        record = _promotion_record(str(latest.run_id))
        promoted = bool(record and record.get("promote"))
        verdict = "[green]promoted to champion" if promoted else "[red]refused by its gate"
        console.print(f"[bold]{family} v{latest.version}[/]: {verdict}")
        for check in (record or {}).get("checks", []):
            mark = "[green]pass[/]" if check["passed"] else "[red]FAIL[/]"
            console.print(f"  {mark} {check['reason']}")
        champion = _champion_version(client, family)
        refused = None if champion is None else _unservable(client, family, champion, key)
        if refused is not None:
            console.print(
                f"  [red]{family} v{champion} holds the champion alias but is not served: {refused}"
            )
            champion = None
        if champion is None:
            if served:
                without_champion.append(family)
            else:
                console.print(f"  {family} has no champion (no decision of the API uses it)")
        elif not promoted:
            console.print(f"  {family} v{champion}, the champion, keeps serving")
    return without_champion


def _unservable(client: Any, family: str, version: str, key: bytes) -> str | None:
    """Why the decision API would refuse the version (None: its signed record verifies)."""
    from zhongtai.ml.register import ModelNotRegistered, load_promoted

    try:
        load_promoted(client, family, version, key)
    except ModelNotRegistered as refused:
        return str(refused)
    return None


def _champion_version(client: Any, family: str) -> str | None:
    """The version that holds the champion alias (none if no version does)."""
    from mlflow.exceptions import MlflowException

    from zhongtai.ml.register import CHAMPION

    try:
        return str(client.get_model_version_by_alias(family, CHAMPION).version)
    except MlflowException:
        return None


def _promotion_record(run_id: str) -> dict[str, Any] | None:
    """The promotion decision a training run logged (none if it logged none)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return dict(mlflow.artifacts.load_dict(f"runs:/{run_id}/promotion/decision.json"))
    except (MlflowException, OSError):
        return None


# What the registry table shows of each version's held-out metrics, in order.
SHOWN = {
    "auc": "AUC",
    "gini": "Gini",
    "ks": "KS",
    "brier": "Brier",
    "score_psi": "score PSI",
    "auprc": "AUPRC",
    "review.recall": "recall at review budget",
}
_FAIRNESS_GAP = re.compile(r"^(?:\w+\.)?(?:out_of_time|holdout)\.fairness\.(\w+)\.auc_gap$")


def _held_out_metric(metrics: dict[str, float], algorithm: str, name: str) -> float | None:
    """A version's metric on its held-out rows, as the run named it: ``out_of_time.auc``
    or ``holdout.auc``, in the run or prefixed by the algorithm (older runs)."""
    for window in ("out_of_time", "holdout"):
        for key in (f"{window}.{name}", f"{algorithm}.{window}.{name}"):
            if key in metrics:
                return metrics[key]
    return None


def print_champions(settings: Settings, *, every_version: bool = False) -> None:
    """The champion of each family (its latest version when it has none), or every
    version, with its evidence on the rows it was held to (out of time, or a holdout)."""
    from zhongtai.ml.spec import model_families
    from zhongtai.ml.track import use_mlflow

    client = use_mlflow(settings)
    found_versions: dict[str, tuple[Any, dict[str, float]]] = {}
    for family in model_families(settings):
        found = client.search_model_versions(f"name = '{family}'")
        numbers = sorted((int(v.version) for v in found), reverse=True)
        shown_version = _champion_version(client, family) or str(numbers[0] if numbers else "")
        for number in numbers:
            if not every_version and str(number) != shown_version:
                continue
            version = client.get_model_version(family, str(number))
            metrics = dict(client.get_run(str(version.run_id)).data.metrics)
            found_versions[f"{family} v{number}"] = (version, metrics)
    if not found_versions:
        console.print("no model registered yet: zhongtai models train")
        return
    attributes = sorted(
        {
            match.group(1)
            for _, metrics in found_versions.values()
            for key in metrics
            if (match := _FAIRNESS_GAP.match(key))
        }
    )
    shown = SHOWN | {f"fairness.{a}.auc_gap": f"AUC gap by {a}" for a in attributes}
    columns: dict[str, list[str]] = {}
    for label, (version, metrics) in found_versions.items():
        algorithm = version.tags.get("algorithm", "")
        values = [_held_out_metric(metrics, algorithm, name) for name in shown]
        columns[label] = [
            ", ".join(version.aliases or []) or "-",
            algorithm,
            version.tags.get("promotion", ""),
            *("-" if value is None else f"{value:.4f}" for value in values),
        ]
    table = Table("", *columns, title="registered models, on their held-out rows")
    for i, name in enumerate(["aliases", "algorithm", "promotion gate", *shown.values()]):
        table.add_row(name, *(values[i] for values in columns.values()))
    console.print(table)
    print_trained_before_erasures(settings, shown_versions=set(found_versions))
    console.print(f"tracking store: {settings.tracking_uri}")
    console.print("MLflow UI:      zhongtai models ui  (http://127.0.0.1:5000)")


def print_trained_before_erasures(settings: Settings, *, shown_versions: set[str]) -> None:
    """The shown versions trained before an erasure (``zhongtai erase`` tags them): they
    keep what they learnt from the erased subjects until retrained."""
    from zhongtai.ml.erasure import models_trained_before_erasures

    before = [
        f"{label} ({len(erasures)} erasure{'s' if len(erasures) > 1 else ''})"
        for name_version, erasures in sorted(models_trained_before_erasures(settings).items())
        if (label := name_version.replace("/", " v", 1)) in shown_versions
    ]
    if before:
        console.print(
            f"[yellow]trained before an erasure (retrain to forget its subjects): "
            f"{', '.join(before)}",
            soft_wrap=True,
        )
