"""Land a delivery: every file of a source, checked, protected and written as a raw batch.

Data flow per file: checksum → already landed? → parse against the contract →
(refused: quarantine) → pseudonymise + vault → immutable raw batch with manifest.
Good files land even when a sibling is refused; the run then fails naming every refused
file, so nothing is dropped silently. For the same reason ``unclaimed_inbox_content``
names every folder and file of a delivery date that no contract reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa

from zhongtai.contracts import (
    BATCH_ID_COLUMN,
    LOADED_AT_COLUMN,
    Contract,
    declared_sources,
    load_contract,
)
from zhongtai.landing.keys import with_record_key
from zhongtai.landing.parse import ContractViolation, read_delivered_file
from zhongtai.landing.protect import protect
from zhongtai.landing.quarantine import QuarantineRecord, quarantine_file
from zhongtai.landing.rawzone import (
    Manifest,
    batch_id_for,
    file_sha256,
    find_batch,
    write_batch,
)
from zhongtai.privacy.keys import KeyRing, resolve_keyring
from zhongtai.privacy.vault import Vault
from zhongtai.settings import Settings

DELIVERED_SUFFIX = ".csv"


@dataclass
class SourceLanding:
    """The outcome of landing one source for one ingest date."""

    source: str
    ingest_date: date
    landed: list[Manifest] = field(default_factory=list)
    already_landed: list[Manifest] = field(default_factory=list)
    quarantined: list[QuarantineRecord] = field(default_factory=list)

    @property
    def rows_landed(self) -> int:
        return sum(manifest.rows for manifest in self.landed)


class LandingRefused(Exception):
    """Some delivered files broke their contract and were quarantined."""

    def __init__(self, refused: list[QuarantineRecord]) -> None:
        self.refused = refused
        lines = [f"{len(refused)} file(s) refused and quarantined:"]
        lines += [f"  {record.summary}\n    quarantined at {record.path}" for record in refused]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Unclaimed:
    """A folder or file of the inbox that no contract reads: it is not landed."""

    path: Path
    reason: str

    def describe(self) -> str:
        return f"{self.path}: {self.reason}"


def delivered_files(inbox_dir: Path, ingest_date: date, source: str) -> list[Path]:
    """The files of ``source`` delivered on ``ingest_date``: ``inbox/<date>/<source>/*.csv``."""
    folder = inbox_dir / ingest_date.isoformat() / source
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if _is_delivered(path))


def _is_delivered(path: Path) -> bool:
    return path.is_file() and path.name.endswith(DELIVERED_SUFFIX)


def unclaimed_inbox_content(
    ingest_date: date, settings: Settings, *, sources: Iterable[str] | None = None
) -> list[Unclaimed]:
    """Every folder and file under ``inbox/<date>/`` that no contract claims.

    A source's files are ``inbox/<date>/<source>/*.csv``, ``<source>`` having a contract
    ``contracts/<source>.yml``. Anything else is unclaimed: a folder with no contract, a
    file beside the source folders, and inside a source folder a file of another kind
    or a folder. Given ``sources``, only those sources' folders are looked at.
    """
    day = settings.inbox_dir / ingest_date.isoformat()
    if not day.is_dir():
        return []
    declared = set(declared_sources(settings))
    wanted = None if sources is None else set(sources)
    unclaimed = []
    for entry in sorted(day.iterdir()):
        if wanted is not None and entry.name not in wanted:
            continue
        if entry.is_dir() and entry.name in declared:
            unclaimed += _unclaimed_in_source_folder(entry)
        elif entry.is_dir():
            count = sum(1 for path in entry.rglob("*") if path.is_file())
            unclaimed.append(
                Unclaimed(
                    entry,
                    f"no contract claims this folder (no {settings.contracts_dir / entry.name}"
                    f".yml): its {count} file(s) are not landed",
                )
            )
        elif wanted is None:
            unclaimed.append(
                Unclaimed(
                    entry,
                    "a file outside any source folder: deliveries are "
                    f"{ingest_date.isoformat()}/<source>/*{DELIVERED_SUFFIX}",
                )
            )
    return unclaimed


def _unclaimed_in_source_folder(folder: Path) -> list[Unclaimed]:
    unclaimed = []
    for entry in sorted(folder.iterdir()):
        if _is_delivered(entry):
            continue
        if entry.is_dir():
            reason = f"a folder inside the source folder: only {folder.name}/*.csv files are landed"
        else:
            reason = f"not a {DELIVERED_SUFFIX} file: the {folder.name} contract reads only CSV"
        unclaimed.append(Unclaimed(entry, reason))
    return unclaimed


def land_source(
    source: str,
    ingest_date: date,
    settings: Settings,
    *,
    keyring: KeyRing | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> SourceLanding:
    """Land every file delivered for ``source`` on ``ingest_date``; raise if any was refused."""
    contract = load_contract(source, settings)
    keyring = keyring or resolve_keyring(settings)
    outcome = SourceLanding(source, ingest_date)
    with ExitStack() as stack:
        vault = None
        if any(spec.is_vaulted for spec in contract.fields):
            vault = stack.enter_context(Vault.open(settings.vault_path, keyring))
        for path in delivered_files(settings.inbox_dir, ingest_date, source):
            _land_file(path, contract, ingest_date, settings, keyring, vault, outcome)
            if on_file:
                on_file(path)
    if outcome.quarantined:
        raise LandingRefused(outcome.quarantined)
    return outcome


def land_delivery(
    ingest_date: date,
    settings: Settings,
    *,
    sources: Iterable[str] | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[SourceLanding]:
    """Land every source; refused files of all sources are reported together at the end."""
    keyring = resolve_keyring(settings)
    outcomes, refused = [], []
    for source in declared_sources(settings) if sources is None else sources:
        try:
            outcomes.append(
                land_source(source, ingest_date, settings, keyring=keyring, on_file=on_file)
            )
        except LandingRefused as error:
            refused.extend(error.refused)
    if refused:
        raise LandingRefused(refused)
    return outcomes


def _land_file(
    path: Path,
    contract: Contract,
    ingest_date: date,
    settings: Settings,
    keyring: KeyRing,
    vault: Vault | None,
    outcome: SourceLanding,
) -> None:
    source_sha256 = file_sha256(path)
    batch_id = batch_id_for(source_sha256, contract.version)
    if existing := find_batch(settings.raw_dir, contract.source, batch_id):
        outcome.already_landed.append(existing)
        return
    now = settings.now()
    try:
        table = read_delivered_file(path, contract)
        table, repeated_key_rows = with_record_key(table, contract, keyring, path)
    except ContractViolation as violation:
        outcome.quarantined.append(
            quarantine_file(
                path,
                violation,
                contract=contract,
                quarantine_dir=settings.quarantine_dir,
                ingest_date=ingest_date,
                batch_id=batch_id,
                source_sha256=source_sha256,
                keyring=keyring,
                now=now,
            )
        )
        return
    protected = protect(table, contract, keyring, vault)
    protected = protected.append_column(
        BATCH_ID_COLUMN, pa.repeat(pa.scalar(batch_id, pa.string()), protected.num_rows)
    ).append_column(
        LOADED_AT_COLUMN,
        pa.array([now] * protected.num_rows, pa.timestamp("us", tz="UTC")),
    )
    outcome.landed.append(
        write_batch(
            settings.raw_dir,
            protected,
            source=contract.source,
            ingest_date=ingest_date,
            batch_id=batch_id,
            schema_version=contract.version,
            source_file=path,
            source_sha256=source_sha256,
            pseudonymised_fields=[spec.name for spec in contract.fields if spec.is_pseudonymised],
            vaulted_fields=[spec.name for spec in contract.fields if spec.is_vaulted],
            landed_at=now,
            derived_key=contract.derived_key,
            repeated_key_rows=repeated_key_rows,
        )
    )
