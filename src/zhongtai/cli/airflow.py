"""``zhongtai airflow``: any Airflow command against this project's DAGs and home."""

from __future__ import annotations

import typer

from zhongtai.cli.common import PASS_THROUGH
from zhongtai.settings import Settings

app = typer.Typer()


@app.command(context_settings=PASS_THROUGH)
def airflow(context: typer.Context) -> None:
    """Run any ``airflow`` command against this project, e.g. ``zhongtai airflow standalone``."""
    from zhongtai.airflow_env import ensure_airflow_db, run_airflow

    settings = Settings()
    ensure_airflow_db(settings)
    raise typer.Exit(run_airflow(list(context.args), settings, check=False))
