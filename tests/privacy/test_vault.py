"""The vault: clear values only encrypted, erasable for good, rotatable, never garbage."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from zhongtai.privacy import vault as vault_module
from zhongtai.privacy.erasure import tombstone
from zhongtai.privacy.errors import (
    DecryptionError,
    PrivacyError,
    SubjectErasedError,
    SubjectNotFoundError,
    UnknownKeyVersionError,
)
from zhongtai.privacy.keys import KeyRing, resolve_keyring
from zhongtai.privacy.pseudonyms import pseudonymise_one
from zhongtai.privacy.vault import Vault
from zhongtai.settings import Settings

ALICE_ID = "11010519491231002X"
ALICE_PHONE = "13800138000"
ALICE_NAME = "王小丽"
BOB_PHONE = "13900139000"


def subject(n: int) -> str:
    return hashlib.sha256(f"subject {n}".encode()).hexdigest()


def with_new_active_version(keyring: KeyRing) -> KeyRing:
    version = max(keyring.master_keys) + 1
    return KeyRing(
        pseudonym_key=keyring.pseudonym_key,
        master_keys={**keyring.master_keys, version: os.urandom(32)},
        active_version=version,
    )


def rows(path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def on_disk(path: Path) -> bytes:
    """Every byte SQLite keeps for the vault: the database and its WAL."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "vault" / "vault.db"


@pytest.fixture
def alice(keyring: KeyRing) -> str:
    subject_id = pseudonymise_one(ALICE_ID, kind="national_id", key=keyring.pseudonym_key)
    assert subject_id is not None
    return subject_id


def put_alice_and_bob(vault: Vault, alice: str) -> int:
    return vault.put_many(
        [alice, subject(2)],
        {
            "national_id": [ALICE_ID, None],
            "phone": [ALICE_PHONE, BOB_PHONE],
            "name": [ALICE_NAME, None],
        },
    )


def test_round_trip(vault_path: Path, keyring: KeyRing, alice: str) -> None:
    with Vault.open(vault_path, keyring) as vault:
        written = put_alice_and_bob(vault, alice)

        assert written == 4
        assert vault.get(alice) == {
            "national_id": ALICE_ID,
            "phone": ALICE_PHONE,
            "name": ALICE_NAME,
        }
        assert vault.get(subject(2)) == {"phone": BOB_PHONE}
        assert vault.key_versions() == {1: 2}

    with Vault.open(vault_path, keyring) as reopened:
        assert reopened.get(subject(2)) == {"phone": BOB_PHONE}


def test_settings_path_is_created_on_open_and_private(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    assert not settings.vault_path.parent.exists()

    with Vault.open(settings.vault_path, resolve_keyring(settings, announce=lambda _: None)):
        pass

    assert stat.S_IMODE(settings.vault_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.vault_path.parent.stat().st_mode) == 0o700


def test_a_vault_of_a_newer_schema_is_refused(vault_path: Path, keyring: KeyRing) -> None:
    Vault.open(vault_path, keyring).close()
    newer = vault_module.SCHEMA_VERSION + 1
    connection = sqlite3.connect(vault_path)
    connection.execute(f"PRAGMA user_version = {newer}")
    connection.close()

    with pytest.raises(PrivacyError, match=f"vault {vault_path} has schema version {newer}"):
        Vault.open(vault_path, keyring)


def test_nothing_clear_reaches_the_disk(vault_path: Path, keyring: KeyRing, alice: str) -> None:
    with Vault.open(vault_path, keyring) as vault:
        put_alice_and_bob(vault, alice)
        stored = on_disk(vault_path)

    for clear in (ALICE_ID, ALICE_PHONE, ALICE_NAME, BOB_PHONE):
        assert clear.encode() not in stored
    assert keyring.master_key(1) not in stored


def test_upsert_keeps_other_fields_and_the_subject_key(
    vault_path: Path, keyring: KeyRing, alice: str
) -> None:
    with Vault.open(vault_path, keyring) as vault:
        put_alice_and_bob(vault, alice)
        key_before = rows(vault_path, "SELECT wrapped_key FROM subject_keys ORDER BY subject_id")

        vault.put_many([alice], {"phone": ["13700137000"], "name": [None]})

        assert vault.get(alice) == {
            "national_id": ALICE_ID,
            "phone": "13700137000",
            "name": ALICE_NAME,
        }
        assert rows(vault_path, "SELECT wrapped_key FROM subject_keys ORDER BY subject_id") == (
            key_before
        )


def test_a_subject_twice_in_one_batch_gets_one_key_and_the_later_value(
    vault_path: Path, keyring: KeyRing
) -> None:
    ids = [subject(1), subject(2), subject(1)]
    with Vault.open(vault_path, keyring) as vault:
        vault.put_many(ids, {"phone": ["111", "222", "333"], "name": ["a", "b", None]})

        assert vault.get(subject(1)) == {"phone": "333", "name": "a"}
        assert vault.key_versions() == {1: 2}


def test_a_subject_spread_over_batches_gets_one_key(
    vault_path: Path, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault_module, "BATCH_ROWS", 2)
    ids = [subject(n % 3) for n in range(10)]
    with Vault.open(vault_path, keyring) as vault:
        vault.put_many(ids, {"phone": [str(n) for n in range(10)]})

        assert vault.key_versions() == {1: 3}
        assert [vault.get(subject(n))["phone"] for n in range(3)] == ["9", "7", "8"]


def test_pyarrow_columns_are_accepted(vault_path: Path, keyring: KeyRing) -> None:
    with Vault.open(vault_path, keyring) as vault:
        vault.put_many(
            pa.array([subject(1), subject(2)]),
            {"phone": pa.chunked_array([pa.array(["1"]), pa.array([None], type=pa.string())])},
        )

        assert vault.get(subject(1)) == {"phone": "1"}
        with pytest.raises(SubjectNotFoundError):
            vault.get(subject(2))  # no value, so no key was made


def test_unknown_subject_raises_a_key_error_saying_so(vault_path: Path, keyring: KeyRing) -> None:
    with Vault.open(vault_path, keyring) as vault, pytest.raises(KeyError) as raised:
        vault.get(subject(9))

    assert isinstance(raised.value, SubjectNotFoundError)
    assert not isinstance(raised.value, SubjectErasedError)
    assert f"subject {subject(9)} is not in the vault" in str(raised.value)


def test_clear_identifiers_are_refused_as_subject_ids(vault_path: Path, keyring: KeyRing) -> None:
    with Vault.open(vault_path, keyring) as vault:
        with pytest.raises(ValueError, match="row 1 is not a pseudonym") as raised:
            vault.put_many([subject(1), ALICE_ID], {"phone": ["1", "2"]})
        assert ALICE_ID not in str(raised.value)
        with pytest.raises(ValueError, match="not a pseudonym") as raised:
            vault.get(ALICE_ID)
        assert ALICE_ID not in str(raised.value)
        with pytest.raises(ValueError, match="not a pseudonym"):
            vault.erase(ALICE_ID, "request")


def test_misaligned_columns_are_refused(vault_path: Path, keyring: KeyRing) -> None:
    with Vault.open(vault_path, keyring) as vault:
        with pytest.raises(ValueError, match="field 'phone' has 1 values for 2 subject ids"):
            vault.put_many([subject(1), subject(2)], {"phone": ["1"]})
        with pytest.raises(ValueError, match="snake_case"):
            vault.put_many([subject(1)], {"Phone Number": ["1"]})


def test_rotation_rewraps_keys_and_the_old_version_can_be_retired(
    vault_path: Path, keyring: KeyRing, alice: str
) -> None:
    with Vault.open(vault_path, keyring) as vault:
        put_alice_and_bob(vault, alice)
    values_before = rows(vault_path, "SELECT * FROM subject_values ORDER BY subject_id, field")
    assert len(values_before) == 4
    rotated = with_new_active_version(keyring)

    with Vault.open(vault_path, rotated) as vault:
        vault.put_many([subject(3)], {"phone": ["3"]})  # new keys already use version 2
        assert vault.key_versions() == {1: 2, 2: 1}

        assert vault.rewrap() == 2
        assert vault.key_versions() == {2: 3}
        assert vault.rewrap() == 0

    # Envelope encryption: the values themselves were not re-encrypted.
    values_after = rows(
        vault_path,
        "SELECT * FROM subject_values WHERE subject_id != ? ORDER BY subject_id, field",
        subject(3),
    )
    assert values_after == values_before
    with Vault.open(vault_path, rotated.retire(1)) as vault:
        assert vault.get(alice)["phone"] == ALICE_PHONE
        assert vault.get(subject(3)) == {"phone": "3"}


def test_rewrap_to_an_explicit_version(vault_path: Path, keyring: KeyRing) -> None:
    rotated = with_new_active_version(keyring)
    with Vault.open(vault_path, rotated) as vault:
        vault.put_many([subject(1)], {"phone": ["1"]})

        assert vault.rewrap(to_version=1) == 1
        assert vault.key_versions() == {1: 1}
        with pytest.raises(UnknownKeyVersionError, match="version 7"):
            vault.rewrap(to_version=7)


def test_retiring_a_version_before_rewrap_fails_loudly_and_changes_nothing(
    vault_path: Path, keyring: KeyRing
) -> None:
    with Vault.open(vault_path, keyring) as vault:
        vault.put_many([subject(1)], {"phone": ["1"]})
    retired_too_early = with_new_active_version(keyring).retire(1)

    with Vault.open(vault_path, retired_too_early) as vault:
        with pytest.raises(UnknownKeyVersionError, match="master key version 1"):
            vault.rewrap()
        with pytest.raises(UnknownKeyVersionError, match="master key version 1"):
            vault.get(subject(1))
        assert vault.key_versions() == {1: 1}


def test_wrong_master_key_raises_naming_the_version(vault_path: Path, keyring: KeyRing) -> None:
    with Vault.open(vault_path, keyring) as vault:
        vault.put_many([subject(1)], {"phone": ["1"]})
    impostor = KeyRing(
        pseudonym_key=keyring.pseudonym_key,
        master_keys={1: os.urandom(32), 2: os.urandom(32)},
        active_version=2,
    )

    with Vault.open(vault_path, impostor) as vault:
        with pytest.raises(DecryptionError, match="master key version 1"):
            vault.get(subject(1))
        with pytest.raises(DecryptionError, match="master key version 1"):
            vault.put_many([subject(1)], {"name": ["x"]})
        with pytest.raises(DecryptionError, match="master key version 1"):
            vault.rewrap()
        assert vault.key_versions() == {1: 1}


def test_rows_moved_between_subjects_or_fields_are_detected(
    vault_path: Path, keyring: KeyRing
) -> None:
    with Vault.open(vault_path, keyring) as vault:
        vault.put_many([subject(1)], {"phone": ["1"], "name": ["n"]})
    connection = sqlite3.connect(vault_path)
    with connection:  # copy the phone ciphertext over the name: a valid ciphertext, wrong place
        phone = connection.execute(
            "SELECT nonce, ciphertext FROM subject_values WHERE field = 'phone'"
        ).fetchone()
        connection.execute(
            "UPDATE subject_values SET nonce = ?, ciphertext = ? WHERE field = 'name'", phone
        )
    connection.close()

    with Vault.open(vault_path, keyring) as vault, pytest.raises(DecryptionError, match="'name'"):
        vault.get(subject(1))


def test_erasure_shreds_the_key_and_values_and_is_recorded(
    vault_path: Path, keyring: KeyRing, alice: str
) -> None:
    with Vault.open(vault_path, keyring) as vault:
        put_alice_and_bob(vault, alice)
    [(wrapped_key,)] = rows(
        vault_path, "SELECT wrapped_key FROM subject_keys WHERE subject_id = ?", alice
    )
    ciphertexts = [
        c
        for (c,) in rows(
            vault_path, "SELECT ciphertext FROM subject_values WHERE subject_id = ?", alice
        )
    ]
    assert len(ciphertexts) == 3

    with Vault.open(vault_path, keyring) as vault:
        vault.erase(alice, reason="PIPL deletion request #42")

        with pytest.raises(SubjectErasedError, match=f"subject {alice} was erased") as raised:
            vault.get(alice)
        assert isinstance(raised.value, KeyError)
        assert vault.get(subject(2)) == {"phone": BOB_PHONE}

    assert rows(vault_path, "SELECT * FROM subject_keys WHERE subject_id = ?", alice) == []
    assert rows(vault_path, "SELECT * FROM subject_values WHERE subject_id = ?", alice) == []
    recorded = rows(vault_path, "SELECT subject_id, reason FROM erasures")
    assert recorded == [(tombstone(alice, keyring.pseudonym_key), "PIPL deletion request #42")]
    # Crypto-shredding: not even the master key holder can recover the data key, because
    # its bytes are gone from the database file and the WAL, not just unlinked. And the
    # record of the erasure does not name the subject: a scan for the pseudonym finds none.
    stored = on_disk(vault_path)
    assert wrapped_key not in stored
    assert all(ciphertext not in stored for ciphertext in ciphertexts)
    assert alice.encode() not in stored


def test_erase_counts_what_it_shredded_and_a_second_erasure_records_nothing_new(
    vault_path: Path, keyring: KeyRing, alice: str
) -> None:
    with Vault.open(vault_path, keyring) as vault:
        put_alice_and_bob(vault, alice)

        assert vault.erase(alice, reason="request") == 3
        assert vault.erase(alice, reason="request") == 0

        assert vault.erased([alice, subject(2), alice]) == {alice}
    assert rows(vault_path, "SELECT COUNT(*) FROM erasures") == [(1,)]


def test_erasures_recorded_in_clear_by_an_older_vault_become_tombstones(
    vault_path: Path, keyring: KeyRing, alice: str
) -> None:
    Vault.open(vault_path, keyring).close()
    connection = sqlite3.connect(vault_path)
    with connection:
        connection.execute(
            "INSERT INTO erasures (subject_id, erased_at, reason) VALUES (?, 'then', 'old')",
            (alice,),
        )
    connection.close()

    with Vault.open(vault_path, keyring) as vault:
        assert vault.erased([alice]) == {alice}
        with pytest.raises(SubjectErasedError):
            vault.get(alice)

    assert alice.encode() not in on_disk(vault_path)


def test_an_erased_subject_is_not_brought_back_by_a_rerun(
    vault_path: Path, keyring: KeyRing, alice: str
) -> None:
    with Vault.open(vault_path, keyring) as vault:
        put_alice_and_bob(vault, alice)
        vault.erase(alice, reason="request")

        assert put_alice_and_bob(vault, alice) == 1  # only Bob's phone

        with pytest.raises(SubjectErasedError):
            vault.get(alice)


def test_erasure_needs_a_reason_and_is_recorded_for_unknown_subjects(
    vault_path: Path, keyring: KeyRing
) -> None:
    with Vault.open(vault_path, keyring) as vault:
        with pytest.raises(ValueError, match="reason"):
            vault.erase(subject(1), reason=" ")
        vault.erase(subject(1), reason="request before landing")

        with pytest.raises(SubjectErasedError):
            vault.get(subject(1))


def test_put_many_is_all_or_nothing_when_a_value_is_bad(
    vault_path: Path, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault_module, "BATCH_ROWS", 1)  # earlier batches are already written
    with Vault.open(vault_path, keyring) as vault:
        vault.put_many([subject(0)], {"phone": ["0"]})
        ids = [subject(n) for n in range(1, 6)]
        phones: list[object] = ["1", "2", "3", "4", "5"]
        bad_row = max(range(5), key=lambda n: ids[n])  # written last: subjects go in order
        phones[bad_row] = 13800138000

        with pytest.raises(TypeError, match=f"field 'phone' row {bad_row}: expected str"):
            vault.put_many(ids, {"phone": phones})  # type: ignore[dict-item]

        assert vault.key_versions() == {1: 1}
        assert vault.get(subject(0)) == {"phone": "0"}
    assert rows(vault_path, "SELECT COUNT(*) FROM subject_values") == [(1,)]


def test_put_many_is_all_or_nothing_when_a_write_fails(
    vault_path: Path, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault_module, "BATCH_ROWS", 2)
    original = Vault._write_rows
    calls: list[int] = []

    def fail_on_third(self: Vault, *args: object) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Vault, "_write_rows", fail_on_third)
    with Vault.open(vault_path, keyring) as vault:
        with pytest.raises(OSError, match="disk full"):
            vault.put_many([subject(n) for n in range(6)], {"phone": list("abcdef")})

        assert vault.key_versions() == {}
    assert rows(vault_path, "SELECT COUNT(*) FROM subject_values") == [(0,)]
