"""The ``zhongtai`` command: generate a lender's world, land it, run the platform.

This module is the root: the one clock option every command shares, and the table of
contents of the command, one module per command or group of commands.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated

import typer

from zhongtai.cli import (
    airflow,
    audit,
    demo,
    erase,
    features,
    keys,
    landing,
    models,
    partners,
    serve,
    warehouse,
)
from zhongtai.cli.common import console
from zhongtai.settings import Settings

app = typer.Typer(
    help="zhongtai: a data middle-platform for consumer credit risk.", no_args_is_help=True
)
# Commands first, then groups: the order of `zhongtai --help`.
app.add_typer(landing.app)  # generate, land
app.add_typer(demo.app)
app.add_typer(serve.app)
app.add_typer(airflow.app)
app.add_typer(erase.app)
app.add_typer(keys.app, name="keys")
app.add_typer(warehouse.app, name="warehouse")
app.add_typer(features.app, name="features")
app.add_typer(models.app, name="models")
app.add_typer(partners.app, name="partners")
app.add_typer(audit.app, name="audit")

# Commands whose tool talks to the person at the terminal (the API server, Airflow).
CONSOLE_COMMANDS = frozenset({"serve", "airflow"})


@app.callback()
def main_options(
    context: typer.Context,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="The platform's one clock: the day this run treats as today (default: "
            "ZHONGTAI_AS_OF, else the real date, UTC). Same seed, same as-of: same world, "
            "marts, metrics and models.",
        ),
    ] = None,
) -> None:
    """zhongtai: a data middle-platform for consumer credit risk."""
    from zhongtai.logs import log_to_file
    from zhongtai.privacy.keys import write_privately

    write_privately()  # every file this run (and what it starts) writes: 0600, folders 0700

    if as_of is not None:
        # Through the environment, so that every Settings() of this run and every process
        # it starts (Airflow, dbt, the API) reads the same day.
        os.environ["ZHONGTAI_AS_OF"] = as_of.date().isoformat()
    try:
        settings = Settings()
    except ValueError as error:  # pydantic names the setting and what it expected
        console.print(f"[red]bad setting: {error}")
        raise typer.Exit(2) from error
    command = context.invoked_subcommand
    if command not in CONSOLE_COMMANDS:
        log_to_file(settings.logs_dir / f"{command}.log")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
