"""``zhongtai partners``: the institutions that may call the API, and their keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from zhongtai.cli.common import console
from zhongtai.settings import Settings

app = typer.Typer(
    help="Partner institutions of the API: API keys, scopes, rate limits.",
    no_args_is_help=True,
)


@app.command("add")
def add_partner(
    partner_id: Annotated[str, typer.Argument(help="A short slug, e.g. bank_a.")],
    name: Annotated[str, typer.Option(help="The institution's name.")],
    scope: Annotated[
        list[str], typer.Option(help="A feature service it may read (repeat the option).")
    ],
    purpose: Annotated[
        list[str] | None,
        typer.Option(help="A purpose it may act for (repeat the option); none for operations."),
    ] = None,
    rate_limit: Annotated[int, typer.Option(min=1, help="Requests per minute.")] = 600,
) -> None:
    """Register a partner and print its API key (shown this once; only a hash is kept).

    Scopes are feature services (or ``operations``, for metrics); purposes are the
    consents a decision asks for."""
    from zhongtai.decision.schemas import CONSENTS
    from zhongtai.features.build import FEATURE_SERVICES
    from zhongtai.stores.partners import OPERATIONS_SCOPE, partners_add

    purpose = purpose or []
    for option, given, known in (
        ("--scope", scope, (*FEATURE_SERVICES, OPERATIONS_SCOPE)),
        ("--purpose", purpose, CONSENTS),
    ):
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise typer.BadParameter(
                f"{option}: unknown {', '.join(repr(u) for u in unknown)}; "
                f"expected one of {', '.join(known)}"
            )
    try:
        partner, key = partners_add(
            Settings(),
            partner_id,
            name,
            scopes=scope,
            purposes=purpose,
            rate_limit_per_minute=rate_limit,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"partner {partner.partner_id} registered; its API key (shown once):")
    print(key)


@app.command("list")
def list_partners() -> None:
    """Partners, their scopes, purposes, rate limits and key prefixes (never a key)."""
    from zhongtai.stores.partners import partners_list

    table = Table("partner", "name", "scopes", "purposes", "per minute", "keys")
    for partner, keys in partners_list(Settings()):
        table.add_row(
            partner.partner_id,
            partner.name,
            ", ".join(sorted(partner.scopes)),
            ", ".join(sorted(partner.purposes)),
            str(partner.rate_limit_per_minute),
            ", ".join(k.key_prefix + (" (revoked)" if k.revoked_at else "") for k in keys),
        )
    console.print(table)


@app.command("revoke")
def revoke_key(
    key_prefix: Annotated[str, typer.Argument(help="The key prefix `partners list` shows.")],
) -> None:
    """Revoke one API key."""
    from zhongtai.stores.partners import partners_revoke

    try:
        info = partners_revoke(Settings(), key_prefix)
    except KeyError as error:
        raise typer.BadParameter(str(error.args[0])) from error
    console.print(f"revoked {info.key_prefix} of {info.partner_id} at {info.revoked_at}")
