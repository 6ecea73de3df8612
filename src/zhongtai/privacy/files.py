"""Whole files encrypted at rest: quarantined source files still hold clear identifiers.

Same envelope scheme as the vault: a random 256-bit data key per file, wrapped by the
active master key (AES-GCM), its version recorded in the header. The content is
encrypted in 1 MiB chunks (AES-GCM under the file's data key), so memory stays flat for
files of hundreds of MB, and each chunk's nonce carries its index and a "last chunk"
flag, so chunks cannot be reordered, dropped or the file truncated unnoticed.

Layout::

    magic "ZTENC\\x01" | key version (u32) | chunk size (u32)   -- 14 bytes, the prefix
    wrap nonce (12) | wrapped data key (32 + 16 tag)             -- 60 bytes
    chunk 0 | chunk 1 | ... | last chunk                         -- each ciphertext + 16

Chunks authenticate the magic and chunk size but not the key version, so that
:func:`rewrap_file` can move a file to a new master key by rewriting its header only.
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from zhongtai.privacy.errors import DecryptionError
from zhongtai.privacy.keys import KeyRing

MAGIC = b"ZTENC\x01"
CHUNK_BYTES = 1 << 20
_PREFIX = struct.Struct(">6sII")
_NONCE_BYTES = 12
_TAG_BYTES = 16
_DATA_KEY_BYTES = 32
_WRAPPED_BYTES = _DATA_KEY_BYTES + _TAG_BYTES
HEADER_BYTES = _PREFIX.size + _NONCE_BYTES + _WRAPPED_BYTES
_WRAP_LABEL = b"zhongtai.file-key\x1f"


def encrypt_file(src: Path, dst: Path, keyring: KeyRing) -> None:
    """Encrypt ``src`` into ``dst`` (mode 0600, written atomically) under the active key."""
    with open(src, "rb") as source:
        encrypt_stream(source, Path(dst), keyring)


def encrypt_stream(source: BinaryIO, dst: Path, keyring: KeyRing) -> None:
    """Encrypt what ``source`` reads into ``dst`` (a new data key, the active master key;
    written atomically): erasure re-encrypts a filtered copy without it touching disk."""
    data_key = os.urandom(_DATA_KEY_BYTES)
    header = _header(keyring, keyring.active_version, data_key, CHUNK_BYTES)
    cipher = AESGCM(data_key)
    chunk_aad = _chunk_aad(CHUNK_BYTES)
    with _atomic_private_writer(dst) as sink:
        sink.write(header)
        for index, (chunk, last) in enumerate(_chunks_with_last_flag(source, CHUNK_BYTES)):
            sink.write(cipher.encrypt(_chunk_nonce(index, last), chunk, chunk_aad))


def decrypt_file(src: Path, keyring: KeyRing) -> bytes:
    """The plaintext of ``src``; :class:`DecryptionError` if any of it is not authentic."""
    src = Path(src)
    with open(src, "rb") as source:
        _, chunk_size, data_key = _read_header(source, src, keyring)
        cipher = AESGCM(data_key)
        chunk_aad = _chunk_aad(chunk_size)
        parts: list[bytes] = []
        sealed = chunk_size + _TAG_BYTES
        for index, (chunk, last) in enumerate(_chunks_with_last_flag(source, sealed)):
            try:
                parts.append(cipher.decrypt(_chunk_nonce(index, last), chunk, chunk_aad))
            except InvalidTag:
                raise DecryptionError(
                    f"{src}: chunk {index} failed authentication (the file was altered, "
                    "truncated or reordered)"
                ) from None
    return b"".join(parts)


def file_key_version(path: Path) -> int:
    """The master key version that wraps ``path``'s data key (for rotation reports)."""
    with open(path, "rb") as source:
        return _read_prefix(source, Path(path))[0]


def rewrap_file(path: Path, keyring: KeyRing, to_version: int | None = None) -> bool:
    """Rewrap ``path``'s data key under ``to_version`` (default: active); header only.

    Returns False when the file already uses that version. The content is copied, not
    re-encrypted, and the file is replaced atomically.
    """
    path = Path(path)
    target = keyring.active_version if to_version is None else to_version
    keyring.master_key(target)
    with open(path, "rb") as source:
        version, chunk_size, data_key = _read_header(source, path, keyring)
        if version == target:
            return False
        with _atomic_private_writer(path) as sink:
            sink.write(_header(keyring, target, data_key, chunk_size))
            while block := source.read(CHUNK_BYTES):
                sink.write(block)
    return True


def _header(keyring: KeyRing, version: int, data_key: bytes, chunk_size: int) -> bytes:
    prefix = _PREFIX.pack(MAGIC, version, chunk_size)
    nonce = os.urandom(_NONCE_BYTES)
    wrapped = AESGCM(keyring.master_key(version)).encrypt(nonce, data_key, _WRAP_LABEL + prefix)
    return prefix + nonce + wrapped


def _read_prefix(source: BinaryIO, path: Path) -> tuple[int, int, bytes]:
    prefix = source.read(_PREFIX.size)
    if len(prefix) < _PREFIX.size or not prefix.startswith(MAGIC):
        raise DecryptionError(f"{path} is not a zhongtai encrypted file (no {MAGIC!r} header)")
    _, version, chunk_size = _PREFIX.unpack(prefix)
    if chunk_size == 0:
        raise DecryptionError(f"{path}: header records a chunk size of 0")
    return version, chunk_size, prefix


def _read_header(source: BinaryIO, path: Path, keyring: KeyRing) -> tuple[int, int, bytes]:
    version, chunk_size, prefix = _read_prefix(source, path)
    rest = source.read(_NONCE_BYTES + _WRAPPED_BYTES)
    if len(rest) < _NONCE_BYTES + _WRAPPED_BYTES:
        raise DecryptionError(f"{path}: header is truncated")
    nonce, wrapped = rest[:_NONCE_BYTES], rest[_NONCE_BYTES:]
    master = AESGCM(keyring.master_key(version))
    try:
        data_key = master.decrypt(nonce, wrapped, _WRAP_LABEL + prefix)
    except InvalidTag:
        raise DecryptionError(
            f"{path}: cannot unwrap its data key with master key version {version}: the "
            f"keyring's version {version} is not the key it was wrapped with, or the header "
            "was altered"
        ) from None
    return version, chunk_size, data_key


def _chunks_with_last_flag(source: BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """Blocks of ``size`` bytes, each with whether it is the last (always at least one)."""
    current = source.read(size)
    while True:
        following = source.read(size)
        yield current, not following
        if not following:
            return
        current = following


def _chunk_nonce(index: int, last: bool) -> bytes:
    # Deterministic nonces are safe here: every file has its own random data key.
    return index.to_bytes(_NONCE_BYTES - 1, "big") + (b"\x01" if last else b"\x00")


def _chunk_aad(chunk_size: int) -> bytes:
    return MAGIC + chunk_size.to_bytes(4, "big")


@contextmanager
def _atomic_private_writer(path: Path) -> Iterator[BinaryIO]:
    """Write to a private (0600) temporary file beside ``path``; replace ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
