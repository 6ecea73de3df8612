"""The raw zone: immutable Parquet batches partitioned by source and ingest date.

One delivered file is one batch, named by the checksum of its bytes and the contract
version, so landing the same file twice finds the batch already there and writes
nothing. A batch appears whole or not at all: it is written to a staging folder and
renamed into place, then made read-only to its owner alone (files 0400, folders 0700:
pseudonyms and quasi-identifiers are personal data too).

    raw/<source>/ingest_date=YYYY-MM-DD/batch_id=<id>/part-0.parquet
                                                      _manifest.json
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from zhongtai import __version__
from zhongtai.atomic import replacing
from zhongtai.contracts import DATA_NAME

MANIFEST_NAME = "_manifest.json"
READ_ONLY = 0o400
PRIVATE_FOLDER = 0o700


def make_private_folder(zone: Path, folder: Path) -> None:
    """Create ``folder`` inside ``zone``; it, ``zone`` and every folder between are 0700,
    whatever the umask."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (folder, *folder.relative_to(zone).parents):
        (path if path.is_absolute() else zone / path).chmod(PRIVATE_FOLDER)


@contextmanager
def staged_batch(raw_dir: Path, source: str, ingest_date: date, batch_id: str) -> Iterator[Path]:
    """A private staging folder that becomes the batch, its files read-only, only when the
    block completes: a batch appears whole or not at all."""
    final = batch_dir(raw_dir, source, ingest_date, batch_id)
    staging = final.parent / f".staging-{batch_id}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    make_private_folder(raw_dir, staging)
    try:
        yield staging
        for path in staging.iterdir():
            path.chmod(READ_ONLY)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write a batch's manifest, read-only; an existing one is replaced in one step."""
    with replacing(folder / MANIFEST_NAME) as partial:
        partial.write_text(json.dumps(asdict(manifest), indent=2) + "\n")
        partial.chmod(READ_ONLY)


@dataclass(frozen=True)
class Manifest:
    """What a batch holds and where it came from: enough to audit and reconcile it."""

    source: str
    batch_id: str
    ingest_date: str
    schema_version: int
    source_file: str
    source_sha256: str
    source_bytes: int
    rows: int
    data_file: str
    data_sha256: str
    columns: list[str]
    pseudonymised_fields: list[str]
    vaulted_fields: list[str]
    landed_at: str
    zhongtai_version: str = __version__
    # A source without a key of its own: the column landing derived (contracts'
    # record_key) and how many rows repeated an earlier row's key fields (numbered).
    derived_key: str | None = None
    repeated_key_rows: int = 0

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text()))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def batch_id_for(source_sha256: str, schema_version: int) -> str:
    return hashlib.sha256(f"{source_sha256}:v{schema_version}".encode()).hexdigest()[:20]


def batch_dir(raw_dir: Path, source: str, ingest_date: date, batch_id: str) -> Path:
    return raw_dir / source / f"ingest_date={ingest_date.isoformat()}" / f"batch_id={batch_id}"


def find_batch(raw_dir: Path, source: str, batch_id: str) -> Manifest | None:
    """The manifest of ``batch_id`` if it was landed on any ingest date."""
    for path in (raw_dir / source).glob(f"ingest_date=*/batch_id={batch_id}/{MANIFEST_NAME}"):
        return Manifest.read(path)
    return None


def read_manifests(raw_dir: Path, source: str | None = None) -> list[Manifest]:
    pattern = f"{source or '*'}/ingest_date=*/batch_id=*/{MANIFEST_NAME}"
    return [Manifest.read(path) for path in sorted(raw_dir.glob(pattern))]


def write_batch(
    raw_dir: Path,
    table: pa.Table,
    *,
    source: str,
    ingest_date: date,
    batch_id: str,
    schema_version: int,
    source_file: Path,
    source_sha256: str,
    pseudonymised_fields: list[str],
    vaulted_fields: list[str],
    landed_at: datetime,
    derived_key: str | None = None,
    repeated_key_rows: int = 0,
) -> Manifest:
    """Write ``table`` as one immutable batch and return its manifest."""
    with staged_batch(raw_dir, source, ingest_date, batch_id) as staging:
        data_path = staging / DATA_NAME
        pq.write_table(table, data_path, compression="zstd", row_group_size=256_000)
        manifest = Manifest(
            source=source,
            batch_id=batch_id,
            ingest_date=ingest_date.isoformat(),
            schema_version=schema_version,
            source_file=str(source_file),
            source_sha256=source_sha256,
            source_bytes=source_file.stat().st_size,
            rows=table.num_rows,
            data_file=DATA_NAME,
            data_sha256=file_sha256(data_path),
            columns=table.column_names,
            pseudonymised_fields=pseudonymised_fields,
            vaulted_fields=vaulted_fields,
            landed_at=landed_at.isoformat(),
            derived_key=derived_key,
            repeated_key_rows=repeated_key_rows,
        )
        write_manifest(staging, manifest)
    return manifest
