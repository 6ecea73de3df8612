"""Where the keys come from: the pseudonym (HMAC) key and the versioned vault master keys.

In prod the keys are supplied through ``ZHONGTAI_PSEUDONYM_KEY`` and
``ZHONGTAI_MASTER_KEYS`` (an environment variable, fed from a secret manager). In dev and
test a local development keyring is created on first use under ``settings.keys_dir`` so
that ``make demo`` works with nothing to configure; it is announced loudly and refused in
prod.

The pseudonym key is never rotated in place: every join key downstream is an HMAC under
it, so changing it means re-landing everything. The key that signs promotion records
(:func:`promotion_signing_key`) is derived from it under a label of its own, so it needs
no secret of its own, is refused as a placeholder wherever the pseudonym key is, and
reveals nothing of the pseudonym key to whoever verifies a record. Master keys are
versioned and rotate cheaply (see :func:`rotate_dev_keyring` and
:meth:`zhongtai.privacy.vault.Vault.rewrap`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zhongtai.privacy.errors import KeyConfigError, UnknownKeyVersionError
from zhongtai.settings import Settings

PSEUDONYM_KEY_VAR = "ZHONGTAI_PSEUDONYM_KEY"
MASTER_KEYS_VAR = "ZHONGTAI_MASTER_KEYS"
ACTIVE_VERSION_VAR = "ZHONGTAI_ACTIVE_MASTER_KEY_VERSION"

DEV_KEYRING_NAME = "dev-keyring.json"
DEV_ENVIRONMENTS = frozenset({"dev", "test"})

MIN_PSEUDONYM_KEY_BYTES = 32
# What the platform writes is its owner's alone: files 0600, folders 0700.
PRIVATE_UMASK = 0o077
# The label the promotion-record signing key is derived under (a new label, a new key).
PROMOTION_SIGNING_LABEL = b"zhongtai/promotion-records/v1"
MASTER_KEY_BYTES = 32  # AES-256

_DEV_WARNING = (
    "LOCAL DEVELOPMENT keyring created by zhongtai for dev/test only. Never use it in "
    f"production: there, set {PSEUDONYM_KEY_VAR} and {MASTER_KEYS_VAR}."
)


@dataclass(frozen=True)
class KeyRing:
    """The keys the privacy layer works with.

    ``master_keys`` maps a version to a 32-byte AES-256 key; new data keys are wrapped by
    ``active_version``, older versions stay only until everything is rewrapped.
    """

    pseudonym_key: bytes = field(repr=False)
    master_keys: dict[int, bytes] = field(repr=False)
    active_version: int

    def __post_init__(self) -> None:
        if len(self.pseudonym_key) < MIN_PSEUDONYM_KEY_BYTES:
            raise KeyConfigError(
                f"pseudonym key is {len(self.pseudonym_key)} bytes, "
                f"expected at least {MIN_PSEUDONYM_KEY_BYTES}"
            )
        if not self.master_keys:
            raise KeyConfigError("keyring has no master key")
        for version, key in self.master_keys.items():
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                raise KeyConfigError(f"master key version {version!r} is not a positive integer")
            if len(key) != MASTER_KEY_BYTES:
                raise KeyConfigError(
                    f"master key version {version} is {len(key)} bytes, "
                    f"expected exactly {MASTER_KEY_BYTES} (AES-256)"
                )
        if self.active_version not in self.master_keys:
            raise KeyConfigError(
                f"active master key version {self.active_version} is not in the keyring "
                f"(versions: {sorted(self.master_keys)})"
            )
        # A private copy, so that mutating the caller's dict cannot change a frozen keyring.
        object.__setattr__(self, "master_keys", dict(self.master_keys))

    def __repr__(self) -> str:
        return f"KeyRing(active_version={self.active_version}, versions={self.versions})"

    @property
    def versions(self) -> list[int]:
        return sorted(self.master_keys)

    def master_key(self, version: int) -> bytes:
        """The master key of ``version``, or a clear error if it was retired or never added."""
        try:
            return self.master_keys[version]
        except KeyError:
            raise UnknownKeyVersionError(
                f"master key version {version} is not in the keyring (versions: "
                f"{self.versions}); add it back to {MASTER_KEYS_VAR}, or rewrap before retiring it"
            ) from None

    def retire(self, version: int) -> KeyRing:
        """The keyring without ``version`` (after a rewrap left nothing depending on it)."""
        if version == self.active_version:
            raise KeyConfigError(f"cannot retire master key version {version}: it is active")
        self.master_key(version)
        remaining = {v: k for v, k in self.master_keys.items() if v != version}
        return replace(self, master_keys=remaining)


def new_key_b64(n_bytes: int = 32) -> str:
    """A fresh random key, base64-encoded: the format of ``ZHONGTAI_*_KEY*`` variables."""
    return base64.b64encode(os.urandom(n_bytes)).decode("ascii")


def write_privately() -> None:
    """From now on, this process and those it starts create files 0600 and folders 0700
    (the umask ``PRIVATE_UMASK``): called where data is written from, the ``zhongtai``
    command and the API, so no landed file, mart or log is readable by other accounts."""
    os.umask(PRIVATE_UMASK)


def promotion_signing_key(keyring: KeyRing) -> bytes:
    """The platform key that signs the promotion gate's records (HMAC-SHA256): derived
    from the pseudonym key, so the trainer and the API that both hold the keyring agree on
    it, and a record cannot be signed without the platform's keys."""
    return hmac.new(keyring.pseudonym_key, PROMOTION_SIGNING_LABEL, hashlib.sha256).digest()


def resolve_keyring(settings: Settings, *, announce: Callable[[str], None] = print) -> KeyRing:
    """The keyring for ``settings``: supplied keys, else (dev / test only) the dev keyring.

    ``announce`` is told when a local development keyring is created, so that nobody
    mistakes it for a production key.
    """
    has_pseudonym_key = settings.pseudonym_key is not None
    has_master_keys = bool(settings.master_keys)
    if has_pseudonym_key and has_master_keys:
        return _keyring_from_settings(settings)
    if has_pseudonym_key or has_master_keys:
        missing, present = (
            (MASTER_KEYS_VAR, PSEUDONYM_KEY_VAR)
            if has_pseudonym_key
            else (PSEUDONYM_KEY_VAR, MASTER_KEYS_VAR)
        )
        raise KeyConfigError(
            f"{present} is set but {missing} is not: supply both, or neither "
            "(dev / test only) to use the local development keyring"
        )
    if settings.env in DEV_ENVIRONMENTS:
        return _load_or_create_dev_keyring(settings, announce)
    raise KeyConfigError(
        f"ZHONGTAI_ENV={settings.env} needs real keys: set {PSEUDONYM_KEY_VAR} "
        f"(base64, {MIN_PSEUDONYM_KEY_BYTES}+ bytes) and {MASTER_KEYS_VAR} "
        '(JSON such as {"1": "<base64 of 32 bytes>"}), optionally '
        f"{ACTIVE_VERSION_VAR}; the local development keyring is refused outside dev / test"
    )


def rotate_dev_keyring(settings: Settings, *, announce: Callable[[str], None] = print) -> KeyRing:
    """Add master key version N+1 to the dev keyring file and make it active.

    Then run :meth:`Vault.rewrap` (and :func:`rewrap_file` for encrypted files) so that
    nothing depends on the old versions any more.

    In prod there is no keyring file: an operator rotates by

    1. generating a key (:func:`new_key_b64`) and adding it as version N+1 to
       ``ZHONGTAI_MASTER_KEYS``, keeping the old versions, and setting
       ``ZHONGTAI_ACTIVE_MASTER_KEY_VERSION=N+1`` (or leaving it unset: highest wins);
    2. running ``Vault.rewrap()`` until ``Vault.key_versions()`` shows only N+1;
    3. removing the old versions from ``ZHONGTAI_MASTER_KEYS``.

    A pinned ``ZHONGTAI_ACTIVE_MASTER_KEY_VERSION`` still wins over the file's active
    version when the keyring is next resolved.
    """
    if settings.env not in DEV_ENVIRONMENTS:
        raise KeyConfigError(
            f"rotate_dev_keyring is for dev / test only (ZHONGTAI_ENV={settings.env}): add "
            f"version N+1 to {MASTER_KEYS_VAR} and run Vault.rewrap()"
        )
    if settings.pseudonym_key is not None or settings.master_keys:
        raise KeyConfigError(
            f"keys come from {PSEUDONYM_KEY_VAR} / {MASTER_KEYS_VAR}, not the dev keyring: "
            f"add version N+1 to {MASTER_KEYS_VAR} instead"
        )
    current = _load_or_create_dev_keyring(settings, announce)
    new_version = max(current.master_keys) + 1
    rotated = KeyRing(
        pseudonym_key=current.pseudonym_key,
        master_keys={**current.master_keys, new_version: os.urandom(MASTER_KEY_BYTES)},
        active_version=new_version,
    )
    _write_private_json(_dev_keyring_path(settings), _dev_keyring_document(rotated))
    return rotated


def _keyring_from_settings(settings: Settings) -> KeyRing:
    assert settings.pseudonym_key is not None
    pseudonym_key = _decode_key(
        settings.pseudonym_key.get_secret_value(),
        name=PSEUDONYM_KEY_VAR,
        min_bytes=MIN_PSEUDONYM_KEY_BYTES,
    )
    master_keys = {
        version: _decode_key(
            secret.get_secret_value(),
            name=f"{MASTER_KEYS_VAR} version {version}",
            exact_bytes=MASTER_KEY_BYTES,
        )
        for version, secret in settings.master_keys.items()
    }
    for version in master_keys:
        if version < 1:
            raise KeyConfigError(f"{MASTER_KEYS_VAR}: version {version} must be 1 or more")
    return KeyRing(
        pseudonym_key=pseudonym_key,
        master_keys=master_keys,
        active_version=_active_version(settings, master_keys, source=MASTER_KEYS_VAR),
    )


def _active_version(settings: Settings, master_keys: Mapping[int, bytes], *, source: str) -> int:
    pinned = settings.active_master_key_version
    if pinned is None:
        return max(master_keys)
    if pinned not in master_keys:
        raise KeyConfigError(
            f"{ACTIVE_VERSION_VAR}={pinned} but {source} has versions {sorted(master_keys)}"
        )
    return pinned


def _decode_key(
    text: str, *, name: str, min_bytes: int | None = None, exact_bytes: int | None = None
) -> bytes:
    """Decode standard or URL-safe base64 (padding optional), checking the length."""
    cleaned = "".join(text.split()).replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        key = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{name} is not valid base64") from None
    if exact_bytes is not None and len(key) != exact_bytes:
        raise KeyConfigError(
            f"{name} decodes to {len(key)} bytes, expected exactly {exact_bytes} (AES-256)"
        )
    if min_bytes is not None and len(key) < min_bytes:
        raise KeyConfigError(f"{name} decodes to {len(key)} bytes, expected at least {min_bytes}")
    return key


def _dev_keyring_path(settings: Settings) -> Path:
    return settings.keys_dir / DEV_KEYRING_NAME


def _load_or_create_dev_keyring(settings: Settings, announce: Callable[[str], None]) -> KeyRing:
    path = _dev_keyring_path(settings)
    if not path.exists():
        keyring = KeyRing(
            pseudonym_key=os.urandom(MIN_PSEUDONYM_KEY_BYTES),
            master_keys={1: os.urandom(MASTER_KEY_BYTES)},
            active_version=1,
        )
        if _write_private_json(path, _dev_keyring_document(keyring), exclusive=True):
            announce(
                f"Created a LOCAL DEVELOPMENT keyring at {path}. It must not be used in "
                f"production: there, set {PSEUDONYM_KEY_VAR} and {MASTER_KEYS_VAR}."
            )
        # else another process created it first: fall through and use theirs.
    return _read_dev_keyring(settings, path, announce)


def _read_dev_keyring(settings: Settings, path: Path, announce: Callable[[str], None]) -> KeyRing:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)
        announce(f"Tightened permissions of {path} from {mode:o} to 600.")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        pseudonym_text = document["pseudonym_key"]
        master_texts = {int(v): text for v, text in document["master_keys"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyConfigError(
            f"dev keyring {path} is unreadable ({exc.__class__.__name__}): expected JSON with "
            "pseudonym_key and master_keys; delete it to start a new one (dev data encrypted "
            "with it becomes unreadable)"
        ) from None
    pseudonym_key = _decode_key(
        pseudonym_text, name=f"{path} pseudonym_key", min_bytes=MIN_PSEUDONYM_KEY_BYTES
    )
    master_keys = {
        version: _decode_key(
            text, name=f"{path} master key version {version}", exact_bytes=MASTER_KEY_BYTES
        )
        for version, text in master_texts.items()
    }
    if not master_keys:
        raise KeyConfigError(f"dev keyring {path} has no master key")
    if settings.active_master_key_version is None:
        active = int(document.get("active_version", max(master_keys)))
    else:
        active = _active_version(settings, master_keys, source=str(path))
    return KeyRing(pseudonym_key=pseudonym_key, master_keys=master_keys, active_version=active)


def _dev_keyring_document(keyring: KeyRing) -> dict[str, Any]:
    return {
        "warning": _DEV_WARNING,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pseudonym_key": base64.b64encode(keyring.pseudonym_key).decode("ascii"),
        "master_keys": {
            str(v): base64.b64encode(k).decode("ascii") for v, k in keyring.master_keys.items()
        },
        "active_version": keyring.active_version,
    }


def _write_private_json(path: Path, document: dict[str, Any], *, exclusive: bool = False) -> bool:
    """Write ``document`` to ``path`` (mode 0600, directory 0700) atomically.

    With ``exclusive`` the file is only created if absent (hard link of a complete temp
    file, so a concurrent reader never sees half a keyring); returns False if it existed.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # exactly 0600, whatever the umask
            json.dump(document, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)
