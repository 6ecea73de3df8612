"""Quarantine: refused files are kept, never dropped, with a record of why.

The delivered file still holds clear identifiers, so it is kept encrypted (AES-GCM under
the vault's master key); the reason record names file, row, field and rule, never a
personal value. Files are 0600, folders 0700.

    quarantine/<source>/ingest_date=YYYY-MM-DD/batch_id=<id>/<file>.enc
                                                             reason.json
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from zhongtai.contracts import Contract
from zhongtai.landing.parse import ContractViolation
from zhongtai.landing.rawzone import make_private_folder
from zhongtai.privacy.files import encrypt_file
from zhongtai.privacy.keys import KeyRing

REASON_NAME = "reason.json"
PRIVATE_FILE = 0o600


@dataclass(frozen=True)
class QuarantineRecord:
    path: Path
    source_file: str
    reasons: list[str]
    summary: str

    @classmethod
    def read(cls, folder: Path) -> QuarantineRecord:
        record = json.loads((folder / REASON_NAME).read_text())
        return cls(folder, record["source_file"], record["reasons"], record["summary"])


def quarantine_dir_for(quarantine_dir: Path, source: str, ingest_date: date, batch_id: str) -> Path:
    return (
        quarantine_dir / source / f"ingest_date={ingest_date.isoformat()}" / f"batch_id={batch_id}"
    )


def quarantine_file(
    path: Path,
    violation: ContractViolation,
    *,
    contract: Contract,
    quarantine_dir: Path,
    ingest_date: date,
    batch_id: str,
    source_sha256: str,
    keyring: KeyRing,
    now: datetime,
) -> QuarantineRecord:
    """Keep ``path`` encrypted beside its reason record; a second refusal writes nothing new."""
    final = quarantine_dir_for(quarantine_dir, contract.source, ingest_date, batch_id)
    if (final / REASON_NAME).exists():
        return QuarantineRecord.read(final)
    staging = final.parent / f".staging-{batch_id}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    make_private_folder(quarantine_dir, staging)
    try:
        encrypt_file(path, staging / f"{path.name}.enc", keyring)
        record = {
            "source": contract.source,
            "source_file": str(path),
            "source_sha256": source_sha256,
            "batch_id": batch_id,
            "ingest_date": ingest_date.isoformat(),
            "contract_version": contract.version,
            "reasons": violation.reasons,
            "summary": str(violation),
            "total_problems": violation.total,
            "problems": [problem.to_dict() for problem in violation.problems],
            "quarantined_at": now.isoformat(),
        }
        reason = staging / REASON_NAME
        reason.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        reason.chmod(PRIVATE_FILE)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return QuarantineRecord.read(final)


def read_quarantine(quarantine_dir: Path, source: str | None = None) -> list[QuarantineRecord]:
    pattern = f"{source or '*'}/ingest_date=*/batch_id=*/{REASON_NAME}"
    return [QuarantineRecord.read(path.parent) for path in sorted(quarantine_dir.glob(pattern))]
