"""``zhongtai erase``: crypto-shred one subject's vaulted values."""

from __future__ import annotations

from typing import Annotated

import typer

from zhongtai.cli.common import console
from zhongtai.settings import Settings

app = typer.Typer()


@app.command()
def erase(
    subject_id: Annotated[str, typer.Argument(help="The applicant's pseudonym (applicant_id).")],
    reason: Annotated[str, typer.Option(help="Why: e.g. 'erasure request 2026-11-23'.")],
) -> None:
    """Crypto-shred a subject: delete their data key and encrypted values, and record it."""
    from zhongtai.privacy.keys import resolve_keyring
    from zhongtai.privacy.vault import Vault

    settings = Settings()
    with Vault.open(settings.vault_path, resolve_keyring(settings)) as vault:
        vault.erase(subject_id, reason)
    console.print(f"erased {subject_id}: its clear values can no longer be decrypted")
