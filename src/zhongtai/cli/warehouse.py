"""``zhongtai warehouse``: the dbt warehouse over the raw zone."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from zhongtai.cli.common import console
from zhongtai.settings import Settings

app = typer.Typer(help="The dbt warehouse over the raw zone.", no_args_is_help=True)


@app.command("build")
def build_warehouse(
    target: Annotated[
        str, typer.Option(help="duckdb (embedded default) or spark (local Spark session).")
    ] = "duckdb",
    full_refresh: Annotated[bool, typer.Option(help="Rebuild incremental models.")] = False,
) -> None:
    """Build and test every dbt model (outside Airflow; the DAG is build_warehouse)."""
    from zhongtai.warehouse.dbt import run_dbt

    if target not in ("duckdb", "spark"):
        raise typer.BadParameter(f"unknown target {target!r}: use duckdb or spark")
    settings = Settings()
    run_dbt(["build", *(["--full-refresh"] if full_refresh else [])], settings, target)  # type: ignore[arg-type]
    console.print(f"marts: {settings.marts_dir.resolve()}")


@app.command("docs")
def warehouse_docs(
    serve: Annotated[bool, typer.Option(help="Serve the docs site on localhost:PORT.")] = False,
    # not 8080: that is the Airflow UI's
    port: Annotated[int, typer.Option(help="The port --serve listens on.")] = 8081,
) -> None:
    """Generate dbt's docs site (lineage, columns, tests); --serve to browse it."""
    from zhongtai.warehouse.dbt import dbt_run_dir, run_dbt

    settings = Settings()
    run_dbt(["docs", "generate"], settings)
    console.print(f"dbt docs: {dbt_run_dir(settings) / 'target' / 'index.html'}")
    if serve:
        console.print(f"serving them on http://localhost:{port} (Ctrl+C to stop)")
        run_dbt(["docs", "serve", "--port", str(port), "--no-browser"], settings)


def print_warehouse(settings: Settings) -> None:
    """Each mart's row count, and where the warehouse and its docs are."""
    import pyarrow.parquet as pq

    from zhongtai.warehouse.marts import mart_path, marts

    table = Table("mart", "rows", title=str(settings.marts_dir.resolve()))
    for mart in marts(settings):
        table.add_row(mart, f"{pq.read_metadata(mart_path(settings, mart)).num_rows:,}")
    console.print(table)
    console.print(f"warehouse:  {settings.warehouse_path.resolve()} (DuckDB)")
    console.print(f"Data Docs:  {(settings.quality_dir / 'data_docs' / 'index.html').resolve()}")
    console.print("dbt docs:   zhongtai warehouse docs --serve")
