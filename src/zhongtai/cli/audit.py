"""``zhongtai audit``: check the API's hash-chained audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from zhongtai.cli.common import console
from zhongtai.settings import Settings

app = typer.Typer(help="The API's hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
def verify_audit(
    anchor: Annotated[
        str | None,
        typer.Option(
            help="SEQ:HASH, a head printed earlier and kept elsewhere: it must still be there."
        ),
    ] = None,
) -> None:
    """Recompute the audit log's hash chain; exit 1 at the first record that fails."""
    from zhongtai.stores.audit import audit_verify

    try:
        result = audit_verify(Settings(), anchor)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    except FileNotFoundError as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1) from error
    if not result.ok:
        console.print(f"[red]audit log broken at record {result.first_bad_seq}: {result.reason}")
        raise typer.Exit(1)
    console.print(f"[green]{result.reason}")
    if result.head:
        console.print("head (keep it where the log's writers cannot reach; check with --anchor):")
        typer.echo(f"{result.head[0]}:{result.head[1]}")
