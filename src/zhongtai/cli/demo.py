"""``zhongtai demo``: the whole platform on the embedded default, told on the console.

Each step runs as it does in production (the DAGs through Airflow, the API over HTTP);
the partner's side of the last step is in :mod:`zhongtai.cli.demo_api`.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated

import typer

from zhongtai.cli.common import console
from zhongtai.cli.features import print_online_vector
from zhongtai.cli.landing import generate, print_raw_zone, print_zones
from zhongtai.cli.models import print_champions, print_promotions
from zhongtai.cli.warehouse import print_warehouse
from zhongtai.settings import Settings

app = typer.Typer()

# Enough applicants for the promotion gates to measure the champions out of time on any day.
DEMO_APPLICANTS = 30_000


@app.command()
def demo(
    applicants: Annotated[
        int, typer.Option(min=1, help="Applicants in the demo world.")
    ] = DEMO_APPLICANTS,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
) -> None:
    """Run the platform on the embedded default: generate, land, build the warehouse,
    materialise features, train and promote the models, and ask the API for decisions."""
    from zhongtai.privacy.keys import resolve_keyring

    # The clock is read once: a demo that runs past midnight stays on the day it started.
    delivery_date = Settings().today()
    os.environ["ZHONGTAI_AS_OF"] = delivery_date.isoformat()
    settings = Settings()
    console.print(
        f"zhongtai demo: as of {delivery_date.isoformat()}, seed {seed}; "
        f"data dir {settings.data_dir.resolve()}; tool logs under {settings.logs_dir.resolve()}"
    )
    console.rule("1. keys")
    resolve_keyring(settings, announce=lambda message: console.print(f"[yellow]{message}"))
    console.rule(f"2. sources: a lender's world of {applicants:,} applicants")
    generate(
        applicants=applicants, seed=seed, when=datetime.combine(delivery_date, datetime.min.time())
    )
    _run_dag("3. Airflow: land_raw", "land_raw", settings)
    print_raw_zone(settings)
    print_zones(settings)
    _run_dag(
        "4. Airflow: build_warehouse (dbt models between quality gates)",
        "build_warehouse",
        settings,
    )
    print_warehouse(settings)
    _run_dag(
        "5. Airflow: materialize_features (graph, risk indices, Feast online store)",
        "materialize_features",
        settings,
    )
    print_online_vector(settings, "credit_scoring_v1")
    _run_dag(
        "6. Airflow: train_models (MLflow runs, registry, promotion gate)", "train_models", settings
    )
    without_champion = print_promotions(settings)
    print_champions(settings)
    console.rule("7. the decision API: a partner asks for decisions (zhongtai serve)")
    if without_champion:
        console.print(
            f"[red]No decisions: {' and '.join(without_champion)} "
            f"{'has' if len(without_champion) == 1 else 'have'} no champion.[/] The API "
            "decides only with a champion of every family, and a model becomes champion only "
            "through its promotion gate; the checks it failed are listed above (each with "
            "its sample and confidence interval; the rule is in ml/README.md). A larger "
            "world gives the gate more evidence: make demo DEMO_APPLICANTS=100000."
        )
        raise typer.Exit(3)
    _print_decisions(settings)


def _run_dag(title: str, dag_id: str, settings: Settings) -> None:
    """One of the demo's DAG runs (``airflow dags test``): its story on the console, its
    logs in a file; a failed run stops the demo with what failed and where to read more."""
    from zhongtai.airflow_env import DagRunFailed, run_dag_test

    console.rule(title)
    try:
        with console.status(f"running {dag_id} ..."):
            log = run_dag_test(dag_id, settings)
    except DagRunFailed as failed:
        console.print(f"[red]{failed}")
        raise typer.Exit(1) from failed
    console.print(f"{dag_id}: success (log: {log})")


def _print_decisions(settings: Settings) -> None:
    """The demo partner's decisions from the running API, each with its reasons."""
    from zhongtai.cli.demo_api import demo_decisions

    for answer in demo_decisions(settings):
        limit = answer["credit_limit_minor"] / 100
        console.print(
            f"[bold]{answer['outcome']}[/]  score {answer['credit_score']:.0f}  "
            f"PD {answer['probability_of_default']:.2%}  fraud {answer['fraud_score']:.3f}  "
            f"limit {limit:,.0f} CNY  APR {answer['apr']:.1%}  "
            f"models {' '.join(f'{k}/{v}' for k, v in answer['model_versions'].items())}  "
            f"rules {answer['rules_version']}"
        )
        for rank, reason in enumerate(answer["reasons"], start=1):
            lost = reason.get("points_lost")
            detail = reason.get("message") or f"{lost:.1f} points lost"
            console.print(f"    {rank}. {reason['code']} ({reason['source']}): {detail}")
    console.print("API: zhongtai serve  (docs on http://127.0.0.1:8000/docs)")
    console.print("audit: zhongtai audit verify")
