"""The vault: the only place clear identifier values are kept, and only encrypted.

Envelope encryption. Each subject (``subject_id`` = the national-id pseudonym) gets a
random 256-bit data key; the data key is stored wrapped (AES-GCM) by a versioned master
key, and every field value is encrypted (AES-GCM) with the subject's data key. So:

* erasing a subject destroys one data key and its ciphertexts (crypto-shredding); the
  values are gone even for someone holding every master key. The erasure is recorded as
  a tombstone (:func:`zhongtai.privacy.erasure.tombstone`, a keyed hash), never as the
  pseudonym, so that landing can refuse the subject without the vault naming them;
* rotating a master key rewraps 32-byte data keys (:meth:`Vault.rewrap`), never the values;
* AES-GCM's associated data binds a wrapped key to its subject and key version, and a
  value to its subject and field, so rows cannot be swapped between subjects or fields
  unnoticed; a wrong key or tampering raises :class:`DecryptionError`, never garbage.

Storage is one SQLite file in WAL mode with ``secure_delete`` on, and erasure and rewrap
end with a truncating checkpoint: a destroyed key is zeroed on disk, not left in a free
page or an old WAL frame (tests read the raw files to check). Nonces are random 96-bit
values: AES-GCM allows 2**32 of them per key, far above the subjects one master key wraps.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from zhongtai.privacy.erasure import tombstone
from zhongtai.privacy.errors import (
    DecryptionError,
    PrivacyError,
    SubjectErasedError,
    SubjectNotFoundError,
)
from zhongtai.privacy.keys import KeyRing
from zhongtai.stores.sqlite import SqliteStore, open_private

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = 1
DATA_KEY_BYTES = 32
NONCE_BYTES = 12
BATCH_ROWS = 50_000
_LOOKUP_CHUNK = 900  # stays under SQLite's oldest bound on query parameters (999)
_SUBJECT_ID = re.compile(r"[0-9a-f]{64}")
_FIELD = re.compile(r"[a-z][a-z0-9_]*")

_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS subject_keys (
    subject_id TEXT PRIMARY KEY,
    master_key_version INTEGER NOT NULL,
    nonce BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subject_values (
    subject_id TEXT NOT NULL,
    field TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (subject_id, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS erasures (
    subject_id TEXT NOT NULL,
    erased_at TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS erasures_by_subject ON erasures (subject_id);
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""

_UPSERT_VALUE = """
INSERT INTO subject_values (subject_id, field, nonce, ciphertext, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (subject_id, field) DO UPDATE SET
    nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at
"""


class Vault(SqliteStore[sqlite3.Connection]):
    """Encrypted store of clear identifier values, keyed by subject pseudonym.

    Open with :meth:`Vault.open`, preferably as a context manager.
    """

    def __init__(self, connection: sqlite3.Connection, keyring: KeyRing, path: Path) -> None:
        self._database = connection
        self._keyring = keyring
        self.path = path
        self._master_ciphers: dict[int, AESGCM] = {}

    @classmethod
    def open(cls, path: Path, keyring: KeyRing) -> Self:
        """Open (creating if needed, mode 0600 in a 0700 folder) the vault at ``path``."""
        path = Path(path)
        connection = open_private(
            path,
            _SCHEMA,
            SCHEMA_VERSION,
            what="vault",
            pragmas=("secure_delete = ON", "cache_size = -65536"),  # zeroed pages; 64 MiB
            refused=PrivacyError,
        )
        vault = cls(connection, keyring, path)
        vault._tombstone_clear_erasures()
        return vault

    def put_many(
        self,
        subject_ids: Sequence[str] | pa.Array | pa.ChunkedArray,
        fields: Mapping[str, Sequence[str | None] | pa.Array | pa.ChunkedArray],
    ) -> int:
        """Encrypt and upsert ``fields`` (name → values aligned with ``subject_ids``).

        One transaction: either every value is written or none is. A subject's existing
        data key is reused, a new subject gets one; None values are skipped, and so are
        subjects that were erased (an erasure must survive a re-run of an old landing).
        Columns may be Python sequences or pyarrow arrays. Returns the values written.
        """
        ids = _as_list(subject_ids)
        columns = {name: _as_list(column) for name, column in fields.items()}
        _check_batch(ids, columns)
        now = _utc_now()
        # Work in subject order: B-tree inserts then land side by side (several times
        # faster than random order), and all rows of a subject fall in one batch.
        order = sorted(range(len(ids)), key=ids.__getitem__)
        written = 0
        with self._write_transaction():
            vault_was_empty = (
                self._database.execute("SELECT 1 FROM subject_keys LIMIT 1").fetchone() is None
            )
            for rows in _subject_batches(ids, order):
                key_rows, value_rows = self._encrypt_batch(
                    ids, columns, rows, now, vault_was_empty=vault_was_empty
                )
                self._write_rows(key_rows, value_rows)
                written += len(value_rows)
        return written

    def get(self, subject_id: str) -> dict[str, str]:
        """The clear values of ``subject_id`` (field → value).

        Raises :class:`SubjectErasedError` or :class:`SubjectNotFoundError` (both
        ``KeyError``) when there is nothing to return, saying which.
        """
        _check_subject_id(subject_id)
        row = self._database.execute(
            "SELECT master_key_version, nonce, wrapped_key FROM subject_keys WHERE subject_id = ?",
            (subject_id,),
        ).fetchone()
        if row is None:
            raise self._missing(subject_id)
        version, nonce, wrapped = row
        cipher = AESGCM(self._unwrap(subject_id, version, nonce, wrapped))
        values: dict[str, str] = {}
        for field, value_nonce, ciphertext in self._database.execute(
            "SELECT field, nonce, ciphertext FROM subject_values WHERE subject_id = ?",
            (subject_id,),
        ):
            try:
                plain = cipher.decrypt(value_nonce, ciphertext, _value_aad(subject_id, field))
            except InvalidTag:
                raise DecryptionError(
                    f"value {field!r} of subject {subject_id} failed authentication: "
                    f"the row in {self.path} was altered or moved from another subject"
                ) from None
            values[field] = plain.decode("utf-8")
        return values

    def erase(self, subject_id: str, reason: str) -> int:
        """Crypto-shred ``subject_id``: delete its data key and ciphertexts, record why.

        The erasure is recorded (as a tombstone) even if the vault held nothing for the
        subject, so that a later landing of old files cannot bring the values back (see
        :meth:`put_many` and :meth:`erased`); a second erasure records nothing new.
        Returns the values destroyed. If another connection is reading at that moment,
        the WAL still holds the old pages until the next checkpoint that can complete.
        """
        _check_subject_id(subject_id)
        if not reason.strip():
            raise ValueError(f"erasing subject {subject_id} needs a reason for the record")
        with self._write_transaction():
            destroyed = self._database.execute(
                "DELETE FROM subject_values WHERE subject_id = ?", (subject_id,)
            ).rowcount
            self._database.execute("DELETE FROM subject_keys WHERE subject_id = ?", (subject_id,))
            if not self.erased([subject_id]):
                self._database.execute(
                    "INSERT INTO erasures (subject_id, erased_at, reason) VALUES (?, ?, ?)",
                    (self._tombstone(subject_id), _utc_now(), reason),
                )
        self._checkpoint()
        return max(destroyed, 0)

    def erased(self, subject_ids: Iterable[str]) -> set[str]:
        """Those of ``subject_ids`` that were erased: landing drops their rows."""
        unique = list(dict.fromkeys(subject_ids))
        return _erased_among(self._database, unique, self._tombstone)

    def _tombstone(self, subject_id: str) -> str:
        return tombstone(subject_id, self._keyring.pseudonym_key)

    def _tombstone_clear_erasures(self) -> None:
        """Vaults written before tombstones named erased subjects in clear: hash them."""
        clear = self._database.execute(
            "SELECT rowid, subject_id FROM erasures WHERE subject_id NOT LIKE 't:%'"
        ).fetchall()
        if not clear:
            return
        with self._write_transaction():
            self._database.executemany(
                "UPDATE erasures SET subject_id = ? WHERE rowid = ?",
                [(self._tombstone(subject_id), rowid) for rowid, subject_id in clear],
            )
        self._checkpoint()

    def rewrap(self, to_version: int | None = None) -> int:
        """Rewrap every data key under master key ``to_version`` (default: the active one).

        Returns how many keys were rewrapped. Afterwards no data key depends on the other
        versions, which can be removed from the keyring. Values are untouched: that is
        what envelope encryption buys. One transaction: all keys move or none does.
        """
        target = self._keyring.active_version if to_version is None else to_version
        target_cipher = self._master_cipher(target)
        rewrapped = 0
        with self._write_transaction():
            for version in self.key_versions():
                if version != target:
                    self._master_cipher(version)  # fail before any work if one is missing
            last = ""
            while True:
                rows = self._database.execute(
                    "SELECT subject_id, master_key_version, nonce, wrapped_key FROM subject_keys "
                    "WHERE master_key_version != ? AND subject_id > ? ORDER BY subject_id LIMIT ?",
                    (target, last, BATCH_ROWS),
                ).fetchall()
                if not rows:
                    break
                nonces = os.urandom(NONCE_BYTES * len(rows))
                updates = []
                for i, (subject_id, version, nonce, wrapped) in enumerate(rows):
                    data_key = self._unwrap(subject_id, version, nonce, wrapped)
                    new_nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
                    new_wrapped = target_cipher.encrypt(
                        new_nonce, data_key, _wrap_aad(subject_id, target)
                    )
                    updates.append((target, new_nonce, new_wrapped, subject_id))
                self._database.executemany(
                    "UPDATE subject_keys SET master_key_version = ?, nonce = ?, wrapped_key = ? "
                    "WHERE subject_id = ?",
                    updates,
                )
                rewrapped += len(rows)
                last = rows[-1][0]
        self._checkpoint()
        return rewrapped

    def key_versions(self) -> dict[int, int]:
        """Master key version → number of subject keys it wraps (for rotation reports)."""
        return dict(
            self._database.execute(
                "SELECT master_key_version, COUNT(*) FROM subject_keys "
                "GROUP BY master_key_version ORDER BY master_key_version"
            ).fetchall()
        )

    def _encrypt_batch(
        self,
        ids: list[str],
        columns: dict[str, list[Any]],
        rows: list[int],
        now: str,
        *,
        vault_was_empty: bool,
    ) -> tuple[list[tuple[str, int, bytes, bytes, str]], list[tuple[str, str, bytes, bytes, str]]]:
        """The subject-key and value rows for ``rows`` (indices, in subject order)."""
        unique = list(dict.fromkeys(ids[row] for row in rows))
        erased = _erased_among(self._database, unique, self._tombstone)
        # Batches never share a subject, so in a vault that started empty no key exists yet.
        existing = [] if vault_was_empty else _keys_among(self._database, unique)
        ciphers = {
            subject_id: AESGCM(self._unwrap(subject_id, version, nonce, wrapped))
            for subject_id, version, nonce, wrapped in existing
        }
        active = self._keyring.active_version
        master = self._master_cipher(active)
        fields = sorted(columns)
        aad_suffixes = [f"\x1f{field}".encode() for field in fields]
        ordered = [columns[field] for field in fields]
        key_rows: list[tuple[str, int, bytes, bytes, str]] = []
        value_rows: list[tuple[str, str, bytes, bytes, str]] = []
        wrap_suffix = f"\x1f{active}".encode()  # subject_bytes + wrap_suffix == _wrap_aad(...)
        # Randomness drawn in bulk: one system call per batch instead of one per value.
        nonces = os.urandom(NONCE_BYTES * len(rows) * len(fields))
        position = 0
        fresh_keys = os.urandom((DATA_KEY_BYTES + NONCE_BYTES) * len(unique))
        fresh_position = 0
        for row in rows:
            subject_id = ids[row]
            subject_bytes = subject_id.encode()
            cipher = ciphers.get(subject_id)
            for field, suffix, column in zip(fields, aad_suffixes, ordered, strict=True):
                value = column[row]
                if value is None:
                    continue
                if type(value) is not str:
                    raise TypeError(
                        f"field {field!r} row {row}: expected str or None, "
                        f"got {type(value).__name__}"
                    )
                if cipher is None:
                    if subject_id in erased:
                        break
                    data_key = fresh_keys[fresh_position : fresh_position + DATA_KEY_BYTES]
                    fresh_position += DATA_KEY_BYTES
                    wrap_nonce = fresh_keys[fresh_position : fresh_position + NONCE_BYTES]
                    fresh_position += NONCE_BYTES
                    wrapped = master.encrypt(wrap_nonce, data_key, subject_bytes + wrap_suffix)
                    key_rows.append((subject_id, active, wrap_nonce, wrapped, now))
                    cipher = ciphers[subject_id] = AESGCM(data_key)
                nonce = nonces[position : position + NONCE_BYTES]
                position += NONCE_BYTES
                ciphertext = cipher.encrypt(nonce, value.encode(), subject_bytes + suffix)
                value_rows.append((subject_id, field, nonce, ciphertext, now))
        return key_rows, value_rows

    def _write_rows(
        self,
        key_rows: list[tuple[str, int, bytes, bytes, str]],
        value_rows: list[tuple[str, str, bytes, bytes, str]],
    ) -> None:
        self._database.executemany(
            "INSERT INTO subject_keys (subject_id, master_key_version, nonce, wrapped_key, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            key_rows,
        )
        self._database.executemany(_UPSERT_VALUE, value_rows)

    def _missing(self, subject_id: str) -> SubjectNotFoundError:
        erasure = self._database.execute(
            "SELECT erased_at FROM erasures WHERE subject_id = ? ORDER BY erased_at LIMIT 1",
            (self._tombstone(subject_id),),
        ).fetchone()
        if erasure is not None:
            return SubjectErasedError(
                f"subject {subject_id} was erased at {erasure[0]}: its data key was destroyed "
                "and its values cannot be recovered"
            )
        return SubjectNotFoundError(f"subject {subject_id} is not in the vault {self.path}")

    def _master_cipher(self, version: int) -> AESGCM:
        cipher = self._master_ciphers.get(version)
        if cipher is None:
            cipher = self._master_ciphers[version] = AESGCM(self._keyring.master_key(version))
        return cipher

    def _unwrap(self, subject_id: str, version: int, nonce: bytes, wrapped: bytes) -> bytes:
        cipher = self._master_cipher(version)
        try:
            return cipher.decrypt(nonce, wrapped, _wrap_aad(subject_id, version))
        except InvalidTag:
            raise DecryptionError(
                f"cannot unwrap the data key of subject {subject_id} with master key version "
                f"{version}: the keyring's version {version} is not the key it was wrapped "
                "with, or the record was altered"
            ) from None

    @contextmanager
    def _write_transaction(self) -> Iterator[None]:
        self._database.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._database.execute("ROLLBACK")
            raise
        self._database.execute("COMMIT")

    def _checkpoint(self) -> None:
        # Move the zeroed pages into the database file and empty the WAL, so that
        # destroyed or superseded keys do not linger in old WAL frames.
        self._database.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _wrap_aad(subject_id: str, version: int) -> bytes:
    return f"{subject_id}\x1f{version}".encode()


def _value_aad(subject_id: str, field: str) -> bytes:
    return f"{subject_id}\x1f{field}".encode()


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _as_list(values: Any) -> list[Any]:
    to_pylist = getattr(values, "to_pylist", None)  # pyarrow Array / ChunkedArray
    return list(to_pylist() if callable(to_pylist) else values)


def _subject_batches(ids: list[str], order: list[int]) -> Iterator[list[int]]:
    """Slices of ``order`` of about BATCH_ROWS rows that never split a subject's rows."""
    start = 0
    while start < len(order):
        stop = min(start + BATCH_ROWS, len(order))
        while stop < len(order) and ids[order[stop]] == ids[order[stop - 1]]:
            stop += 1
        yield order[start:stop]
        start = stop


def _keys_among(
    connection: sqlite3.Connection, subject_ids: list[str]
) -> Iterator[tuple[str, int, bytes, bytes]]:
    for chunk in _chunks(subject_ids, _LOOKUP_CHUNK):
        marks = ",".join("?" * len(chunk))
        yield from connection.execute(
            "SELECT subject_id, master_key_version, nonce, wrapped_key FROM subject_keys "
            f"WHERE subject_id IN ({marks})",
            chunk,
        )


def _erased_among(
    connection: sqlite3.Connection, subject_ids: list[str], to_tombstone: Callable[[str], str]
) -> set[str]:
    if connection.execute("SELECT 1 FROM erasures LIMIT 1").fetchone() is None:
        return set()
    erased: set[str] = set()
    for chunk in _chunks([s for s in subject_ids if s is not None], _LOOKUP_CHUNK):
        tombstones = {to_tombstone(subject_id): subject_id for subject_id in chunk}
        marks = ",".join("?" * len(tombstones))
        erased.update(
            tombstones[found]
            for (found,) in connection.execute(
                f"SELECT DISTINCT subject_id FROM erasures WHERE subject_id IN ({marks})",
                list(tombstones),
            )
        )
    return erased


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_subject_id(subject_id: object) -> None:
    if not (isinstance(subject_id, str) and _SUBJECT_ID.fullmatch(subject_id)):
        raise ValueError(
            "subject id is not a pseudonym (64 lowercase hex characters): look subjects up "
            "by the pseudonym of their national id (pseudonymise_one), never the clear value"
        )


def _check_batch(ids: list[Any], columns: dict[str, list[Any]]) -> None:
    for name, column in columns.items():
        if not isinstance(name, str) or not _FIELD.fullmatch(name):
            raise ValueError(f"field name {name!r} must be lowercase snake_case, e.g. 'phone'")
        if len(column) != len(ids):
            raise ValueError(f"field {name!r} has {len(column)} values for {len(ids)} subject ids")
    if not all(isinstance(s, str) and _SUBJECT_ID.fullmatch(s) for s in ids):
        row = next(
            i for i, s in enumerate(ids) if not (isinstance(s, str) and _SUBJECT_ID.fullmatch(s))
        )
        raise ValueError(
            f"subject id at row {row} is not a pseudonym (64 lowercase hex characters); the "
            "vault keys subjects by national-id pseudonym and never by a clear identifier"
        )
