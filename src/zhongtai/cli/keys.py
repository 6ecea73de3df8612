"""``zhongtai keys``: the master keys that wrap the vault's data keys."""

from __future__ import annotations

import typer

from zhongtai.cli.common import console
from zhongtai.settings import Settings

app = typer.Typer(help="Pseudonym and vault keys.", no_args_is_help=True)


@app.command("rotate")
def rotate_keys() -> None:
    """Add a new master key version (dev keyring) and re-wrap every vault data key with it."""
    from zhongtai.privacy.keys import rotate_dev_keyring
    from zhongtai.privacy.vault import Vault

    settings = Settings()
    keyring = rotate_dev_keyring(settings)
    with Vault.open(settings.vault_path, keyring) as vault:
        count = vault.rewrap()
        versions = vault.key_versions()
    console.print(f"master key v{keyring.active_version} active; {count:,} data keys re-wrapped")
    console.print(f"data keys per master key version: {versions}")
    from zhongtai.landing.erase import rewrap_quarantine

    moved = rewrap_quarantine(settings, keyring)
    console.print(f"quarantined copies moved to master key v{keyring.active_version}: {moved:,}")
