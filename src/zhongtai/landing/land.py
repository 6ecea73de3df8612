"""Land a delivery: every file of a source, checked, protected and written as a raw batch.

Data flow per file: checksum → already landed? → parse against the contract →
(refused: quarantine) → pseudonymise + vault → immutable raw batch with manifest.
Good files land even when a sibling is refused; the run then fails naming every refused
file, so nothing is dropped silently. A file that breaks landing in a way no check foresaw
is quarantined too (``landing_failed``), never allowed to stop the files after it. For the
same reason ``unclaimed_inbox_content`` names every entry of a delivery date that is not
for landing: no contract claims it, it is not ``<source>/*.csv`` (``.CSV``, ``.txt``,
``.csv.gz``, a folder), it is a symbolic link (never followed) or its name holds personal
data.
"""

from __future__ import annotations

import logging
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
from zhongtai.landing.checks import check_values, with_canonical_ids
from zhongtai.landing.keys import with_record_key
from zhongtai.landing.parse import ContractViolation, Problem, read_delivered_file
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
from zhongtai.privacy.scan import personal_data_in
from zhongtai.privacy.vault import Vault
from zhongtai.settings import Settings

DELIVERED_SUFFIX = ".csv"
WITHHELD_NAME = "<a name holding personal data>"

log = logging.getLogger(__name__)


@dataclass
class SourceLanding:
    """The outcome of landing one source for one ingest date."""

    source: str
    ingest_date: date
    landed: list[Manifest] = field(default_factory=list)
    already_landed: list[Manifest] = field(default_factory=list)
    quarantined: list[QuarantineRecord] = field(default_factory=list)
    erased_rows: int = 0  # rows of erased subjects, dropped (zhongtai erase)

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
        return f"{_shown_path(self.path)}: {self.reason}"


def _shown_path(path: Path) -> Path:
    """``path`` as printed and recorded: a name that holds personal data is withheld."""
    return path.parent / WITHHELD_NAME if personal_data_in(path.name) else path


def delivered_files(inbox_dir: Path, ingest_date: date, source: str) -> list[Path]:
    """The files of ``source`` delivered on ``ingest_date``: ``inbox/<date>/<source>/*.csv``,
    regular files, not symbolic links, whose names hold no personal data."""
    folder = inbox_dir / ingest_date.isoformat() / source
    if folder.parent.is_symlink() or folder.is_symlink() or not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if _not_for_landing(path) is None)


def _not_for_landing(path: Path) -> str | None:
    """Why an entry of a source folder is not landed, or None for a delivered file."""
    source = path.parent.name
    if path.is_symlink():
        return "a symbolic link: links are never followed, deliver the file itself"
    if path.is_dir():
        return (
            f"a folder inside the source folder: only {source}/*{DELIVERED_SUFFIX} files are landed"
        )
    if not path.is_file():
        return "not a regular file (a pipe, socket or device): not landed"
    if not path.name.endswith(DELIVERED_SUFFIX):
        return f"not a {DELIVERED_SUFFIX} file: the {source} contract reads only CSV"
    if personal_data_in(path.name):
        return "the file name holds personal data: rename the file, it is not landed"
    return None


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
    if day.is_symlink():
        return [Unclaimed(day, "a symbolic link: links are never followed, not landed")]
    if not day.is_dir():
        return []
    declared = set(declared_sources(settings))
    wanted = None if sources is None else set(sources)
    unclaimed = []
    for entry in sorted(day.iterdir()):
        if wanted is not None and entry.name not in wanted:
            continue
        if entry.is_symlink():
            unclaimed.append(
                Unclaimed(entry, "a symbolic link: links are never followed, not landed")
            )
        elif entry.is_dir() and entry.name in declared:
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
    return [
        Unclaimed(entry, reason)
        for entry in sorted(folder.iterdir())
        if (reason := _not_for_landing(entry)) is not None
    ]


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
        if contract.subject_field is not None:  # vaulted fields, or erased subjects to drop
            vault = stack.enter_context(Vault.open(settings.vault_path, keyring))
        for path in delivered_files(settings.inbox_dir, ingest_date, source):
            try:
                _land_file(path, contract, ingest_date, settings, keyring, vault, outcome)
            except Exception as error:  # one file never stops another: it is quarantined
                outcome.quarantined.append(
                    _quarantine_failure(path, error, contract, ingest_date, settings, keyring)
                )
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
        except Exception as error:  # a source that cannot start (its vault) stops no other
            refused.append(_source_failure(source, ingest_date, settings, error))
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
        check_values(path, table, contract, settings.today())
        table = with_canonical_ids(table, contract)
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
    outcome.erased_rows += table.num_rows - protected.num_rows
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


def _quarantine_failure(
    path: Path,
    error: Exception,
    contract: Contract,
    ingest_date: date,
    settings: Settings,
    keyring: KeyRing,
) -> QuarantineRecord:
    """Quarantine a file that failed in a way no check foresaw; if even that fails (an
    unreadable file), a record that it stays in the inbox. Only the error's type is named:
    its message may quote a value."""
    kind = type(error).__name__
    log.error("landing %s failed unexpectedly (%s): quarantining it", _shown_path(path), kind)
    violation = ContractViolation(
        path, [Problem("landing_failed", f"landing failed unexpectedly ({kind}); see the log")]
    )
    try:
        source_sha256 = file_sha256(path)
        return quarantine_file(
            path,
            violation,
            contract=contract,
            quarantine_dir=settings.quarantine_dir,
            ingest_date=ingest_date,
            batch_id=batch_id_for(source_sha256, contract.version),
            source_sha256=source_sha256,
            keyring=keyring,
            now=settings.now(),
        )
    except Exception as second:
        log.error("quarantining %s failed too (%s)", _shown_path(path), type(second).__name__)
        return QuarantineRecord(
            path,
            str(path),
            ["unreadable"],
            f"{path}: could not be read nor quarantined ({kind}, then {type(second).__name__});"
            " it stays in the inbox",
        )


def _source_failure(
    source: str, ingest_date: date, settings: Settings, error: Exception
) -> QuarantineRecord:
    """A source whose landing could not even start: its files stay in the inbox."""
    kind = type(error).__name__
    log.error("landing source %s failed unexpectedly (%s)", source, kind)
    folder = settings.inbox_dir / ingest_date.isoformat() / source
    return QuarantineRecord(
        folder,
        str(folder),
        ["landing_failed"],
        f"{source}: landing failed unexpectedly ({kind}); its files stay in the inbox, see the log",
    )
