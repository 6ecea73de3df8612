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
    """Recompute the audit log's hash chain and check that every stored decision has its
    audit record; exit 1 at the first record that fails."""
    from zhongtai.stores.audit import audit_verify

    try:
        result = audit_verify(Settings(), anchor)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    except FileNotFoundError as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1) from error
    if not result.ok:
        where = "" if result.first_bad_seq is None else f" at record {result.first_bad_seq}"
        console.print(f"[red]audit log broken{where}: {result.reason}")
        raise typer.Exit(1)
    console.print(f"[green]{result.reason}")
    if result.head:
        console.print("head (keep it where the log's writers cannot reach; check with --anchor):")
        typer.echo(f"{result.head[0]}:{result.head[1]}")


@app.command("migrate")
def migrate_audit() -> None:
    """Carry an older zhongtai's audit log and decisions into the ledger: the old chain
    is verified first, and the old files are kept beside the new one."""
    from zhongtai.stores.audit import audit_log_path
    from zhongtai.stores.migrate import migrate_schema_1

    try:
        done = migrate_schema_1(audit_log_path(Settings()))
    except (ValueError, FileExistsError) as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1) from error
    console.print(
        f"[green]migrated {done.records} audit record(s) and {done.decisions} decision(s); "
        f"the old files are kept as {', '.join(str(path) for path in done.kept)}"
    )
    if done.old_head:
        console.print("the old log's head (anchors kept of it are checked there):")
        typer.echo(f"{done.old_head[0]}:{done.old_head[1]}")
