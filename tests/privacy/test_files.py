"""Encrypted files: quarantined deliveries stay unreadable at rest, and tampering shows."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from zhongtai.privacy import files as files_module
from zhongtai.privacy.errors import DecryptionError, UnknownKeyVersionError
from zhongtai.privacy.files import (
    HEADER_BYTES,
    decrypt_file,
    encrypt_file,
    file_key_version,
    rewrap_file,
)
from zhongtai.privacy.keys import KeyRing

CLEAR = b"national_id,phone\n11010519491231002X,13800138000\n"


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(files_module, "CHUNK_BYTES", 64)
    return 64


def encrypted(tmp_path: Path, keyring: KeyRing, content: bytes) -> Path:
    src = tmp_path / "delivery.csv"
    src.write_bytes(content)
    dst = tmp_path / "quarantine" / "delivery.csv.enc"
    encrypt_file(src, dst, keyring)
    return dst


def test_round_trip_is_private_and_holds_nothing_clear(tmp_path: Path, keyring: KeyRing) -> None:
    dst = encrypted(tmp_path, keyring, CLEAR)

    assert decrypt_file(dst, keyring) == CLEAR
    assert b"13800138000" not in dst.read_bytes()
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600
    assert file_key_version(dst) == 1
    assert [p.name for p in dst.parent.iterdir()] == [dst.name], "no temporary file left"


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, 1000])
def test_round_trip_across_chunk_boundaries(
    tmp_path: Path, keyring: KeyRing, small_chunks: int, size: int
) -> None:
    content = os.urandom(size)
    dst = encrypted(tmp_path, keyring, content)

    assert decrypt_file(dst, keyring) == content


def test_wrong_master_key_fails_naming_the_version(tmp_path: Path, keyring: KeyRing) -> None:
    dst = encrypted(tmp_path, keyring, CLEAR)
    impostor = KeyRing(
        pseudonym_key=keyring.pseudonym_key, master_keys={1: os.urandom(32)}, active_version=1
    )

    with pytest.raises(DecryptionError, match="master key version 1"):
        decrypt_file(dst, impostor)


def test_truncation_and_bit_flips_are_detected(
    tmp_path: Path, keyring: KeyRing, small_chunks: int
) -> None:
    dst = encrypted(tmp_path, keyring, os.urandom(3 * small_chunks))
    sealed = small_chunks + 16
    whole = dst.read_bytes()

    dst.write_bytes(whole[: HEADER_BYTES + 2 * sealed])  # the last chunk dropped cleanly
    with pytest.raises(DecryptionError, match="chunk 1"):
        decrypt_file(dst, keyring)

    flipped = bytearray(whole)
    flipped[HEADER_BYTES + 5] ^= 1
    dst.write_bytes(bytes(flipped))
    with pytest.raises(DecryptionError, match="chunk 0"):
        decrypt_file(dst, keyring)

    swapped = whole[:HEADER_BYTES] + whole[HEADER_BYTES + sealed : HEADER_BYTES + 2 * sealed]
    dst.write_bytes(swapped + whole[HEADER_BYTES : HEADER_BYTES + sealed] + whole[-sealed:])
    with pytest.raises(DecryptionError, match="chunk 0"):
        decrypt_file(dst, keyring)


def test_a_plain_file_is_refused(tmp_path: Path, keyring: KeyRing) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_bytes(CLEAR)

    with pytest.raises(DecryptionError, match="not a zhongtai encrypted file"):
        decrypt_file(plain, keyring)


def test_rewrap_moves_a_file_to_the_new_key_without_touching_its_content(
    tmp_path: Path, keyring: KeyRing
) -> None:
    dst = encrypted(tmp_path, keyring, CLEAR)
    body = dst.read_bytes()[HEADER_BYTES:]
    rotated = KeyRing(
        pseudonym_key=keyring.pseudonym_key,
        master_keys={**keyring.master_keys, 2: os.urandom(32)},
        active_version=2,
    )

    assert rewrap_file(dst, rotated) is True
    assert rewrap_file(dst, rotated) is False

    assert file_key_version(dst) == 2
    assert dst.read_bytes()[HEADER_BYTES:] == body
    assert decrypt_file(dst, rotated.retire(1)) == CLEAR
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600


def test_a_retired_version_is_named_when_still_needed(tmp_path: Path, keyring: KeyRing) -> None:
    dst = encrypted(tmp_path, keyring, CLEAR)
    retired_too_early = KeyRing(
        pseudonym_key=keyring.pseudonym_key, master_keys={2: os.urandom(32)}, active_version=2
    )

    with pytest.raises(UnknownKeyVersionError, match="master key version 1"):
        decrypt_file(dst, retired_too_early)
