"""Erasure at the door: the subject's keys, and their rows out of inbox, quarantine and raw.

* :func:`subject_keys`: the pseudonym and the keys of the subject's own records, found in
  the raw zone by following each source's key (applications → application ids → loans
  → loan ids → repayments...). Shared identifiers (a device, a phone) are not followed:
  they are other people's too.
* :func:`erase_raw`: each batch holding a key is rewritten without those rows, its file
  replaced atomically and its manifest (rows, checksum) rewritten after it. A run that
  stopped between the two is repaired by the next (the checksum disagrees).
* :func:`erase_inbox`: delivered CSV files are rewritten without the subject's rows. A
  rewritten file has new bytes, so it would land again as a new batch: an empty batch
  is recorded for it first (same manifest, 0 rows), so landing finds it already landed.
  The original file, delivered again, finds its own (rewritten) batch.
* :func:`erase_quarantine`: quarantined copies are decrypted, filtered and encrypted
  afresh (a new data key under the active master key); the others are moved to the
  active master key (:func:`rewrap_quarantine`, which ``keys rotate`` runs too), so no
  quarantined copy stays readable with a retired one.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from zhongtai.atomic import replacing
from zhongtai.contracts import Contract, declared_sources, load_contract
from zhongtai.landing.quarantine import REASON_NAME
from zhongtai.landing.rawzone import (
    Manifest,
    batch_dir,
    batch_id_for,
    file_sha256,
    find_batch,
    read_manifests,
    staged_batch,
    write_manifest,
)
from zhongtai.privacy.erasure import rewrite_parquet_without
from zhongtai.privacy.files import decrypt_file, encrypt_stream, file_key_version, rewrap_file
from zhongtai.privacy.keys import KeyRing
from zhongtai.privacy.pseudonyms import pseudonymise
from zhongtai.settings import Settings


def record_key(contract: Contract) -> str:
    """The column that identifies one record of the source: its derived key, else its
    first field (application_id, loan_id, instalment_id...)."""
    return contract.derived_key or contract.fields[0].output_column


def subject_keys(settings: Settings, subject_id: str) -> set[str]:
    """The subject's pseudonym, the record keys of every raw row that holds one of their
    keys, and the identifiers only the subject's rows hold (their own phone or device,
    not one shared with another applicant), followed the same way."""
    contracts = [load_contract(source, settings) for source in declared_sources(settings)]
    tables = {
        contract.source: [
            _text_columns(_data_path(settings, manifest))
            for manifest in read_manifests(settings.raw_dir, contract.source)
        ]
        for contract in contracts
    }
    keys = _closure(contracts, tables, {subject_id})
    keys |= _identifiers_of_theirs_only(contracts, tables, subject_id)
    return _closure(contracts, tables, keys)


def _closure(
    contracts: list[Contract], tables: dict[str, list[pa.Table]], keys: set[str]
) -> set[str]:
    while True:
        found = set(keys)
        wanted = pa.array(sorted(keys), pa.string())
        for contract in contracts:
            key = record_key(contract)
            for table in tables[contract.source]:
                hit = _rows_holding(table, wanted)
                if hit is not None and key in table.column_names:
                    found.update(v for v in table.filter(hit).column(key).to_pylist() if v)
        if found == keys:
            return keys
        keys = found


def _identifiers_of_theirs_only(
    contracts: list[Contract], tables: dict[str, list[pa.Table]], subject_id: str
) -> set[str]:
    import pyarrow.compute as pc

    theirs: set[str] = set()
    others: set[str] = set()
    for contract in contracts:
        subject = contract.subject_field
        if subject is None:
            continue
        columns = [
            field.output_column
            for field in contract.fields
            if field is not subject
            and (field.is_pseudonymised or field.pii == "pseudonymous_identifier")
        ]
        for table in tables[contract.source]:
            subjects = table.column(subject.output_column)
            mine = pc.fill_null(pc.equal(subjects, subject_id), False)
            # Rows of another applicant; a row naming no applicant (a list entry for a
            # phone alone) belongs to whoever holds that phone.
            another = pc.fill_null(pc.not_equal(subjects, subject_id), False)
            for column in columns:
                if column in table.column_names:
                    values = table.column(column)
                    theirs.update(v for v in values.filter(mine).to_pylist() if v)
                    others.update(v for v in values.filter(another).to_pylist() if v)
    return theirs - others


def _text_columns(path: Path) -> pa.Table:
    """The batch's string columns only: keys and identifiers are strings."""
    schema = pq.read_schema(path)
    return pq.read_table(path, columns=[f.name for f in schema if _is_text(f.type)])


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _rows_holding(table: pa.Table, wanted: pa.Array) -> pa.Array | None:
    import pyarrow.compute as pc

    hit = None
    for field in table.schema:
        if not _is_text(field.type):
            continue
        match = pc.fill_null(pc.is_in(table.column(field.name), value_set=wanted), False)
        hit = match if hit is None else pc.or_(hit, match)
    if hit is None or not pc.any(hit).as_py():
        return None
    return hit


def _data_path(settings: Settings, manifest: Manifest) -> Path:
    folder = batch_dir(
        settings.raw_dir,
        manifest.source,
        _date(manifest.ingest_date),
        manifest.batch_id,
    )
    return folder / manifest.data_file


def _date(text: str) -> date:
    return date.fromisoformat(text)


def erase_raw(settings: Settings, keys: Iterable[str]) -> int:
    """Rewrite every raw batch that holds one of ``keys``; returns the rows removed."""
    keys = set(keys)
    removed = 0
    for manifest in read_manifests(settings.raw_dir):
        path = _data_path(settings, manifest)
        removed += rewrite_parquet_without(path, keys)
        sha256 = file_sha256(path)
        if sha256 != manifest.data_sha256:
            rows = pq.ParquetFile(path).metadata.num_rows
            write_manifest(path.parent, replace(manifest, rows=rows, data_sha256=sha256))
    return removed


def erase_inbox(settings: Settings, keyring: KeyRing, keys: Iterable[str]) -> int:
    """Rewrite every delivered CSV file without the rows that hold one of ``keys``
    (clear identifiers are compared by their pseudonyms); returns the rows removed."""
    keys = set(keys)
    removed = 0
    for contract, path in _inbox_files(settings):
        data = path.read_bytes()
        kept, dropped = _csv_without(data, contract, keyring, keys)
        if not dropped:
            continue
        _record_rewritten_delivery(settings, contract, file_sha256(path), kept)
        mode = path.stat().st_mode & 0o777
        with replacing(path) as partial:
            partial.write_bytes(kept)
            partial.chmod(mode)
        removed += dropped
    return removed


def _inbox_files(settings: Settings) -> list[tuple[Contract, Path]]:
    files = []
    for source in declared_sources(settings):
        contract = load_contract(source, settings)
        for path in sorted(settings.inbox_dir.glob(f"*/{source}/*")):
            if path.is_file() and not path.is_symlink():
                files.append((contract, path))
    return files


def _record_rewritten_delivery(
    settings: Settings, contract: Contract, original_sha256: str, content: bytes
) -> None:
    """An empty batch for the rewritten file, beside the batch its original landed as."""
    original = batch_id_for(original_sha256, contract.version)
    landed = find_batch(settings.raw_dir, contract.source, original)
    if landed is None:
        return
    sha256 = hashlib.sha256(content).hexdigest()
    batch_id = batch_id_for(sha256, contract.version)
    if find_batch(settings.raw_dir, contract.source, batch_id) is not None:
        return
    ingest_date = _date(landed.ingest_date)
    with staged_batch(settings.raw_dir, contract.source, ingest_date, batch_id) as staging:
        schema = pq.read_schema(_data_path(settings, landed))
        data = staging / landed.data_file
        pq.write_table(schema.empty_table(), data, compression="zstd")
        manifest = replace(
            landed,
            batch_id=batch_id,
            source_sha256=sha256,
            source_bytes=len(content),
            rows=0,
            data_sha256=file_sha256(data),
            repeated_key_rows=0,
        )
        write_manifest(staging, manifest)


def _csv_without(
    data: bytes, contract: Contract, keyring: KeyRing, keys: set[str]
) -> tuple[bytes, int]:
    """The CSV ``data`` without the rows holding a key, by value or by pseudonym."""
    text = data.decode("utf-8", errors="surrogateescape")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if len(rows) < 2:
        return data, 0
    header, body = rows[0], rows[1:]
    hit = [any(value in keys for value in row) for row in body]
    for field in contract.fields:
        if not field.is_pseudonymised or field.name not in header:
            continue
        index = header.index(field.name)
        values = pa.array([row[index] if index < len(row) else None for row in body], pa.string())
        pseudonyms = pseudonymise(values, kind=field.name, key=keyring.pseudonym_key).to_pylist()
        hit = [h or p in keys for h, p in zip(hit, pseudonyms, strict=True)]
    dropped = sum(hit)
    if not dropped:
        return data, 0
    first_line = text.split("\n", 1)[0]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if first_line.endswith("\r") else "\n")
    writer.writerow(header)
    writer.writerows(row for row, h in zip(body, hit, strict=True) if not h)
    return out.getvalue().encode("utf-8", errors="surrogateescape"), dropped


def _quarantined_copies(settings: Settings) -> list[tuple[str, Path]]:
    """(source, encrypted copy) of every quarantined file."""
    pattern = f"*/ingest_date=*/batch_id=*/{REASON_NAME}"
    return [
        (reason.parents[2].name, path)
        for reason in sorted(settings.quarantine_dir.glob(pattern))
        for path in sorted(reason.parent.glob("*.enc"))
    ]


def erase_quarantine(settings: Settings, keyring: KeyRing, keys: Iterable[str]) -> int:
    """Encrypt every quarantined copy afresh without the rows holding one of ``keys``,
    and move the other copies to the active master key; returns the rows removed."""
    keys = set(keys)
    removed = 0
    for source, path in _quarantined_copies(settings):
        contract = load_contract(source, settings)
        kept, dropped = _csv_without(decrypt_file(path, keyring), contract, keyring, keys)
        if dropped:
            encrypt_stream(io.BytesIO(kept), path, keyring)
            removed += dropped
    rewrap_quarantine(settings, keyring)
    return removed


def rewrap_quarantine(settings: Settings, keyring: KeyRing) -> int:
    """Move every quarantined copy to the active master key (``keys rotate``): none stays
    readable with a version about to be retired. Returns how many were moved."""
    return sum(
        rewrap_file(path, keyring)
        for _, path in _quarantined_copies(settings)
        if file_key_version(path) != keyring.active_version
    )
