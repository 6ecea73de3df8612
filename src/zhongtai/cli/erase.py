"""``zhongtai erase``: erase one subject from every room of the platform.

The order is what makes a crash harmless. First the vault: the subject's data key is
destroyed and a tombstone recorded, so from then on landing drops the subject's rows.
Then the erasure ledger records the run with the subject's keys (the pseudonym and
their records' ids, found in the raw zone while it still holds them). Then each room
erases the rows holding a key; each step only removes what is still there, so a rerun
after a crash finds the keys in the ledger and completes the rooms left. Last, the
ledger forgets the keys: it keeps the run's id, time, reason and counts, never who.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zhongtai.cli.common import console
from zhongtai.settings import Settings

if TYPE_CHECKING:
    from zhongtai.privacy.keys import KeyRing

app = typer.Typer()

Room = tuple[str, Callable[[], int]]


@app.command()
def erase(
    subject_id: Annotated[str, typer.Argument(help="The applicant's pseudonym (applicant_id).")],
    reason: Annotated[str, typer.Option(help="Why: e.g. 'erasure request 2026-11-23'.")],
) -> None:
    """Erase a subject everywhere: vault, inbox, quarantine, raw zone, warehouse, marts,
    feature tables, online store, other Parquet files (training sets), decisions,
    submissions, audit payloads, logs and quality reports; registered models trained
    before are tagged.

    Safe to rerun: a second run erases nothing more and succeeds, and a run that stopped
    midway (a crash, a locked file) is completed by running the same command again.
    """
    from zhongtai.privacy.erasure import ErasureLedger, counts_summary, ledger_path, tombstone
    from zhongtai.privacy.keys import resolve_keyring
    from zhongtai.privacy.vault import Vault

    settings = Settings()
    keyring = resolve_keyring(settings)
    with Vault.open(settings.vault_path, keyring) as vault:
        shredded = vault.erase(subject_id, reason)
    console.print(f"vault: {shredded:,} values crypto-shredded, erasure recorded")
    counts = {"vault": shredded}
    with ErasureLedger.open(ledger_path(settings.vault_path)) as ledger:
        run = ledger.start(
            tombstone(subject_id, keyring.pseudonym_key), reason, _keys(settings, subject_id)
        )
        assert run.keys is not None
        ledger.count(run.erasure_id, "vault", shredded)
        for room, eraser in _rooms(settings, keyring, run.keys):
            erased = eraser()
            ledger.count(run.erasure_id, room, erased)
            counts[room] = erased
            console.print(f"{room}: {erased:,} erased")
        tagged = _mark_models(settings, run.erasure_id, run.started_at)
        ledger.complete(run.erasure_id)
    console.print(
        f"erased {subject_id} (erasure {run.erasure_id}): its clear values can no longer be "
        f"decrypted and no room holds its rows; {counts_summary(counts)}"
    )
    if tagged:
        console.print(f"trained before this erasure (tagged {_tag()}): {', '.join(tagged)}")


def _keys(settings: Settings, subject_id: str) -> set[str]:
    from zhongtai.landing.erase import subject_keys

    return subject_keys(settings, subject_id)


def _rooms(settings: Settings, keyring: KeyRing, keys: frozenset[str]) -> list[Room]:
    """Each room's eraser, sources first, each returning the rows (or lines) it erased."""
    from zhongtai.features.erase import erase_feature_tables, erase_online_store
    from zhongtai.landing.erase import erase_inbox, erase_quarantine, erase_raw
    from zhongtai.warehouse.erase import erase_marts, erase_warehouse

    return [
        ("inbox", lambda: erase_inbox(settings, keyring, keys)),
        ("quarantine", lambda: erase_quarantine(settings, keyring, keys)),
        ("raw zone", lambda: erase_raw(settings, keys)),
        ("warehouse", lambda: erase_warehouse(settings, keys)),
        ("marts", lambda: erase_marts(settings, keys)),
        ("feature tables", lambda: erase_feature_tables(settings, keys)),
        ("online store", lambda: erase_online_store(settings, keys)),
        ("other parquet", lambda: _erase_other_parquet(settings, keys)),
        ("decisions", lambda: _erase_decisions(settings, keys)),
        ("submissions", lambda: _erase_submissions(settings, keys)),
        ("audit payloads", lambda: _redact_audit(settings, keys)),
        ("logs and reports", lambda: _redact_logs(settings, keys)),
    ]


def _erase_other_parquet(settings: Settings, keys: frozenset[str]) -> int:
    """Parquet files no room above owns: training sets, Spark's marts, copies."""
    from zhongtai.privacy.erasure import rewrite_parquet_without

    owned = (settings.raw_dir, settings.marts_dir, settings.features_dir)
    return sum(
        rewrite_parquet_without(path, keys)
        for path in sorted(settings.data_dir.rglob("*.parquet"))
        if path.is_file() and not any(path.is_relative_to(folder) for folder in owned)
    )


def _subjects(keys: frozenset[str]) -> list[str]:
    """The pseudonyms among the keys: what the API's stores are keyed by."""
    from zhongtai.stores.sqlite import PSEUDONYM

    return sorted(key for key in keys if PSEUDONYM.fullmatch(key))


def _erase_decisions(settings: Settings, keys: frozenset[str]) -> int:
    from zhongtai.stores.decisions import DecisionStore, decisions_path

    path = decisions_path(settings)
    if not path.is_file():
        return 0
    with DecisionStore.open(path) as store:
        return sum(store.erase_subject(subject) for subject in _subjects(keys))


def _erase_submissions(settings: Settings, keys: frozenset[str]) -> int:
    from zhongtai.stores.partners import PartnerStore, partners_path

    path = partners_path(settings)
    if not path.is_file():
        return 0
    with PartnerStore.open(path) as store:
        return sum(store.erase_subject(subject) for subject in _subjects(keys))


def _redact_audit(settings: Settings, keys: frozenset[str]) -> int:
    from zhongtai.stores.audit import AuditLog, audit_log_path

    path = audit_log_path(settings)
    if not path.is_file():
        return 0
    with AuditLog.open(path) as log:
        return sum(log.redact_subject(subject, "erasure") for subject in _subjects(keys))


def _redact_logs(settings: Settings, keys: frozenset[str]) -> int:
    """Lines of the tools' logs (Airflow's too) and of the data-quality reports (failing
    rows' ids, in validation results and Data Docs) holding a key: the key is replaced."""
    from zhongtai.privacy.erasure import redact_lines

    folders = (settings.logs_dir, settings.airflow_home / "logs", settings.quality_dir)
    files: list[Path] = [
        path
        for folder in folders
        if folder.is_dir()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    ]
    return sum(redact_lines(path, keys) for path in files)


def _mark_models(settings: Settings, erasure_id: str, erased_at: str) -> list[str]:
    from zhongtai.ml.erasure import mark_models_trained_before

    return mark_models_trained_before(settings, erasure_id, erased_at)


def _tag() -> str:
    from zhongtai.ml.erasure import ERASURE_TAG

    return ERASURE_TAG
