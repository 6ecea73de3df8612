"""``zhongtai features``: the feature platform (Feast) over the marts."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from zhongtai.cli.common import PASS_THROUGH, console
from zhongtai.settings import Settings

app = typer.Typer(help="The feature platform (Feast): offline, online, push.", no_args_is_help=True)

LOCAL_HOST = "127.0.0.1"
# Feast's servers that take --host; `feast ui`, `serve_registry` and `serve_lineage` listen
# on every interface unless told otherwise.
FEAST_SERVERS = frozenset({"ui", "serve", "serve_offline", "serve_registry", "serve_lineage"})


@app.command("build")
def build_features(
    materialize: Annotated[
        bool, typer.Option(help="Load the online store (offline retrieval does not need it).")
    ] = True,
) -> None:
    """Graph features, risk indices, feast apply, materialise (outside Airflow; the DAG is
    materialize_features)."""
    from zhongtai.features.build import build_features as build

    settings = Settings()
    build(settings, progress=console.print, materialize=materialize)
    if materialize:
        print_online_vector(settings, "credit_scoring_v1")


@app.command("online")
def online_features(
    applicant_id: Annotated[str, typer.Argument(help="The applicant's pseudonym.")],
    service: Annotated[str, typer.Option(help="Feature service.")] = "credit_scoring_v1",
    device_id: Annotated[str | None, typer.Option(help="For services with device views.")] = None,
    ip_range: Annotated[str | None, typer.Option(help="For services with IP range views.")] = None,
) -> None:
    """Print one applicant's online feature vector."""
    from zhongtai.features.online import online_vector
    from zhongtai.features.repo import open_store

    entity = {"applicant_id": applicant_id, "device_id": device_id, "ip_range": ip_range}
    vector = online_vector(
        open_store(Settings()), service, {k: v for k, v in entity.items() if v is not None}
    )
    _print_vector(service, vector)


@app.command("feast", context_settings=PASS_THROUGH)
def feast(context: typer.Context) -> None:
    """Run the Feast CLI on our repo and environment: `feast serve` (feature server, :6566),
    `feast ui` (web UI, :8888), `feast feature-views list`, ... Servers listen on
    127.0.0.1 unless given --host."""
    import subprocess

    from zhongtai.features.repo import feast_command, feast_environment

    settings = Settings()
    settings.feast_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **feast_environment(settings)}
    command = feast_command(local_by_default(context.args), settings)
    raise typer.Exit(subprocess.run(command, env=env, check=False).returncode)


def local_by_default(args: list[str]) -> list[str]:
    """Feast's arguments, with ``--host 127.0.0.1`` for a server not given a host."""
    if not args or args[0] not in FEAST_SERVERS:
        return args
    if any(arg in ("--host", "-h") or arg.startswith("--host=") for arg in args[1:]):
        return args
    return [args[0], "--host", LOCAL_HOST, *args[1:]]


def print_online_vector(settings: Settings, service: str) -> None:
    """The latest applicant's online vector of ``service``, and where to browse the store."""
    from zhongtai.features.online import latest_application, online_vector
    from zhongtai.features.repo import open_store

    entity = {"applicant_id": latest_application(settings)["applicant_id"]}
    _print_vector(service, online_vector(open_store(settings), service, entity))
    console.print(f"online store:   {settings.feast_dir.resolve()} ({settings.feature_env})")
    console.print("feature server: zhongtai features feast serve")
    console.print("web UI:         zhongtai features feast ui")


def _print_vector(service: str, vector: dict[str, object], columns: int = 2) -> None:
    """The vector as a table of ``columns`` feature/value pairs side by side."""
    table = Table(*(["feature", "value"] * columns), title=f"online vector, {service}")
    cells = [(name, "[dim]null" if value is None else str(value)) for name, value in vector.items()]
    for start in range(0, len(cells), columns):
        row = [text for cell in cells[start : start + columns] for text in cell]
        table.add_row(*row, *[""] * (2 * columns - len(row)))
    console.print(table)
