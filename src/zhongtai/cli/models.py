"""``zhongtai models``: train and gate the model families of ml/, browse the registry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from zhongtai.cli.common import console
from zhongtai.settings import Settings

app = typer.Typer(
    help="Credit and fraud models: training, the MLflow registry and its UI.",
    no_args_is_help=True,
)


@app.command("train")
def train_models(
    families: Annotated[
        list[str] | None,
        typer.Argument(help="Model families of ml/ (default: every spec with promotion gates)."),
    ] = None,
) -> None:
    """Train, track, register and gate model families (outside Airflow; the DAG is
    train_models)."""
    from zhongtai.ml.spec import model_families

    settings = Settings()
    known = model_families(settings)
    for family in families or ():
        if family not in known:
            raise typer.BadParameter(
                f"unknown model family {family!r}: the families of ml/ are {', '.join(known)}"
            )
    from zhongtai.ml.retrain import retrain  # seconds of imports: after a typo is refused

    for family in families or known:
        retrain(family, settings, progress=console.print)
    print_champions(settings)


@app.command("list")
def list_models() -> None:
    """Registered versions of each model family, their aliases and promotion outcome."""
    print_champions(Settings(), every_version=True)


@app.command("ui")
def models_ui(
    port: Annotated[int, typer.Option(help="Port of the MLflow UI.")] = 5000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """The MLflow UI over the platform's tracking store and registry."""
    import sys

    settings = Settings()
    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    mlflow = str(Path(sys.executable).parent / "mlflow")
    command = [mlflow, "ui", "--backend-store-uri", settings.tracking_uri]
    command += ["--host", host, "--port", str(port)]
    # The UI needs no job consumers (MLflow starts several, gigabytes, unless told not to).
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    os.execv(mlflow, command)  # the UI takes this process's place (and its signals)


def print_promotions(settings: Settings) -> list[str]:
    """Each family's latest promotion decision, one line per check; the families left
    without a champion."""
    from zhongtai.ml.spec import model_families
    from zhongtai.ml.track import use_mlflow

    client = use_mlflow(settings)
    without_champion = []
    for family in model_families(settings):
        versions = client.search_model_versions(f"name = '{family}'")
        if not versions:
            console.print(f"[red]{family}: no version registered")
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
        if champion is None:
            without_champion.append(family)
        elif not promoted:
            console.print(f"  {family} v{champion}, the champion, keeps serving")
    return without_champion


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


def print_champions(settings: Settings, *, every_version: bool = False) -> None:
    """The champion of each family (its latest version when it has none), or every
    version, with its out-of-time evidence."""
    from zhongtai.ml.spec import model_families
    from zhongtai.ml.track import use_mlflow

    client = use_mlflow(settings)
    shown = {
        "auc": "AUC",
        "gini": "Gini",
        "ks": "KS",
        "brier": "Brier",
        "score_psi": "score PSI",
        "fairness.auc_gap": "age-band AUC gap",
        "auprc": "AUPRC",
        "review.recall": "recall at review budget",
    }
    columns: dict[str, list[str]] = {}
    for family in model_families(settings):
        found = client.search_model_versions(f"name = '{family}'")
        numbers = sorted((int(v.version) for v in found), reverse=True)
        shown_version = _champion_version(client, family) or str(numbers[0] if numbers else "")
        for number in numbers:
            if not every_version and str(number) != shown_version:
                continue
            version = client.get_model_version(family, str(number))
            aliases = list(version.aliases or [])
            algorithm = version.tags.get("algorithm", "")
            metrics = client.get_run(str(version.run_id)).data.metrics
            values = [metrics.get(f"{algorithm}.out_of_time.{name}") for name in shown]
            columns[f"{family} v{number}"] = [
                ", ".join(aliases) or "-",
                algorithm,
                version.tags.get("promotion", ""),
                *("-" if value is None else f"{value:.4f}" for value in values),
            ]
    if not columns:
        console.print("no model registered yet: zhongtai models train")
        return
    table = Table("", *columns, title="registered models, out of time")
    for i, name in enumerate(["aliases", "algorithm", "promotion gate", *shown.values()]):
        table.add_row(name, *(values[i] for values in columns.values()))
    console.print(table)
    console.print(f"tracking store: {settings.tracking_uri}")
    console.print("MLflow UI:      zhongtai models ui  (http://127.0.0.1:5000)")
