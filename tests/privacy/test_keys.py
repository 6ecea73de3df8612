"""Keys: supplied in prod, a loudly announced local keyring in dev / test, never guessed."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable

import pytest

from zhongtai.privacy.errors import KeyConfigError, UnknownKeyVersionError
from zhongtai.privacy.keys import (
    DEV_KEYRING_NAME,
    KeyRing,
    new_key_b64,
    promotion_signing_key,
    resolve_keyring,
    rotate_dev_keyring,
)
from zhongtai.settings import Settings

SettingsFactory = Callable[..., Settings]


def b64(n_bytes: int) -> str:
    return base64.b64encode(os.urandom(n_bytes)).decode()


def mode(path: os.PathLike[str]) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("env", ["dev", "test"])
def test_dev_keyring_is_created_once_private_and_announced(
    make_settings: SettingsFactory, env: str
) -> None:
    settings = make_settings(env=env)
    messages: list[str] = []

    first = resolve_keyring(settings, announce=messages.append)

    path = settings.keys_dir / DEV_KEYRING_NAME
    assert path.exists()
    assert mode(path) == 0o600
    assert mode(settings.keys_dir) == 0o700
    assert len(messages) == 1
    assert "LOCAL DEVELOPMENT" in messages[0]
    assert str(path) in messages[0]
    assert "production" in messages[0]
    assert len(first.pseudonym_key) == 32
    assert first.active_version == 1 and len(first.master_key(1)) == 32

    second = resolve_keyring(settings, announce=messages.append)

    assert second == first
    assert len(messages) == 1, "reusing the keyring must not announce again"


def test_dev_keyring_with_loose_permissions_is_tightened(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    resolve_keyring(settings, announce=lambda _: None)
    path = settings.keys_dir / DEV_KEYRING_NAME
    os.chmod(path, 0o644)
    messages: list[str] = []

    resolve_keyring(settings, announce=messages.append)

    assert mode(path) == 0o600
    assert any("600" in message for message in messages)


def test_corrupt_dev_keyring_names_the_file(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    settings.keys_dir.mkdir(parents=True)
    (settings.keys_dir / DEV_KEYRING_NAME).write_text("{not json")

    with pytest.raises(KeyConfigError, match=DEV_KEYRING_NAME):
        resolve_keyring(settings, announce=lambda _: None)


def test_prod_without_keys_names_the_variables_and_creates_nothing(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(env="prod")

    with pytest.raises(KeyConfigError) as raised:
        resolve_keyring(settings, announce=lambda _: None)

    assert "ZHONGTAI_PSEUDONYM_KEY" in str(raised.value)
    assert "ZHONGTAI_MASTER_KEYS" in str(raised.value)
    assert not settings.keys_dir.exists()


def test_supplied_keys_are_decoded_and_highest_version_is_active(
    make_settings: SettingsFactory,
) -> None:
    pseudonym, v1, v2 = os.urandom(32), os.urandom(32), os.urandom(32)
    settings = make_settings(
        env="prod",
        pseudonym_key=base64.b64encode(pseudonym).decode(),
        master_keys={1: base64.b64encode(v1).decode(), 2: base64.b64encode(v2).decode()},
    )

    keyring = resolve_keyring(settings, announce=pytest.fail)

    assert keyring.pseudonym_key == pseudonym
    assert keyring.master_keys == {1: v1, 2: v2}
    assert keyring.active_version == 2
    assert not settings.keys_dir.exists()


def test_supplied_keys_from_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    master = os.urandom(32)
    # URL-safe alphabet without padding is accepted too.
    monkeypatch.setenv("ZHONGTAI_ENV", "prod")
    monkeypatch.setenv("ZHONGTAI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(
        "ZHONGTAI_PSEUDONYM_KEY", base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
    )
    monkeypatch.setenv("ZHONGTAI_MASTER_KEYS", json.dumps({"3": base64.b64encode(master).decode()}))

    keyring = resolve_keyring(Settings(_env_file=None), announce=pytest.fail)  # type: ignore[call-arg]

    assert keyring.active_version == 3
    assert keyring.master_key(3) == master
    assert len(keyring.pseudonym_key) == 48


def test_pinned_active_version_is_used(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        pseudonym_key=b64(32), master_keys={1: b64(32), 2: b64(32)}, active_master_key_version=1
    )

    assert resolve_keyring(settings).active_version == 1


def test_pinned_active_version_that_does_not_exist_is_refused(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(
        pseudonym_key=b64(32), master_keys={1: b64(32)}, active_master_key_version=2
    )

    with pytest.raises(KeyConfigError, match="ZHONGTAI_ACTIVE_MASTER_KEY_VERSION=2"):
        resolve_keyring(settings)


@pytest.mark.parametrize(
    ("pseudonym_key", "master_keys", "expected"),
    [
        (b64(16), {1: b64(32)}, "ZHONGTAI_PSEUDONYM_KEY decodes to 16 bytes"),
        ("not base64 at all!", {1: b64(32)}, "ZHONGTAI_PSEUDONYM_KEY is not valid base64"),
        (b64(32), {1: b64(32), 2: b64(16)}, "ZHONGTAI_MASTER_KEYS version 2 decodes to 16"),
        (b64(32), {1: b64(64)}, "ZHONGTAI_MASTER_KEYS version 1 decodes to 64"),
        (b64(32), {1: "%%%"}, "ZHONGTAI_MASTER_KEYS version 1 is not valid base64"),
    ],
)
def test_malformed_keys_name_the_variable_and_never_echo_the_key(
    make_settings: SettingsFactory,
    pseudonym_key: str,
    master_keys: dict[int, str],
    expected: str,
) -> None:
    settings = make_settings(env="prod", pseudonym_key=pseudonym_key, master_keys=master_keys)

    with pytest.raises(KeyConfigError, match=expected) as raised:
        resolve_keyring(settings)

    for secret in [pseudonym_key, *master_keys.values()]:
        assert secret not in str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"pseudonym_key": b64(32)}, "ZHONGTAI_MASTER_KEYS"),
        ({"master_keys": {1: b64(32)}}, "ZHONGTAI_PSEUDONYM_KEY"),
    ],
)
def test_half_supplied_keys_are_refused_even_in_dev(
    make_settings: SettingsFactory, overrides: dict[str, object], missing: str
) -> None:
    settings = make_settings(env="dev", **overrides)

    with pytest.raises(KeyConfigError, match=f"but {missing} is not"):
        resolve_keyring(settings)
    assert not settings.keys_dir.exists()


def test_rotate_dev_keyring_adds_an_active_version_and_keeps_the_old(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    before = resolve_keyring(settings, announce=lambda _: None)

    rotated = rotate_dev_keyring(settings, announce=pytest.fail)

    assert rotated.active_version == 2
    assert rotated.master_key(1) == before.master_key(1)
    assert rotated.master_key(2) != before.master_key(1)
    assert rotated.pseudonym_key == before.pseudonym_key
    assert resolve_keyring(settings, announce=pytest.fail) == rotated
    assert mode(settings.keys_dir / DEV_KEYRING_NAME) == 0o600
    assert rotate_dev_keyring(settings).active_version == 3


def test_rotate_dev_keyring_is_refused_in_prod_and_with_supplied_keys(
    make_settings: SettingsFactory,
) -> None:
    with pytest.raises(KeyConfigError, match="ZHONGTAI_MASTER_KEYS"):
        rotate_dev_keyring(make_settings(env="prod"))
    supplied = make_settings(pseudonym_key=b64(32), master_keys={1: b64(32)})
    with pytest.raises(KeyConfigError, match="ZHONGTAI_MASTER_KEYS"):
        rotate_dev_keyring(supplied)


def test_keyring_repr_shows_versions_not_keys(keyring: KeyRing) -> None:
    text = repr(keyring) + str(keyring)

    assert "versions=[1]" in text
    assert keyring.pseudonym_key.hex() not in text
    assert repr(keyring.master_key(1)) not in text


def test_keyring_refuses_a_short_master_key_and_an_absent_active_version() -> None:
    with pytest.raises(KeyConfigError, match="expected exactly 32"):
        KeyRing(pseudonym_key=os.urandom(32), master_keys={1: os.urandom(16)}, active_version=1)
    with pytest.raises(KeyConfigError, match="active master key version 2"):
        KeyRing(pseudonym_key=os.urandom(32), master_keys={1: os.urandom(32)}, active_version=2)


def test_retire_drops_a_version_but_never_the_active_one(keyring: KeyRing) -> None:
    two = KeyRing(
        pseudonym_key=keyring.pseudonym_key,
        master_keys={**keyring.master_keys, 2: os.urandom(32)},
        active_version=2,
    )

    assert two.retire(1).versions == [2]
    with pytest.raises(UnknownKeyVersionError, match="version 1"):
        two.retire(1).master_key(1)
    with pytest.raises(KeyConfigError, match="active"):
        two.retire(2)


def test_new_key_b64_is_a_valid_master_key(make_settings: SettingsFactory) -> None:
    settings = make_settings(pseudonym_key=new_key_b64(), master_keys={1: new_key_b64()})

    assert resolve_keyring(settings).active_version == 1


def test_the_promotion_signing_key_is_the_platforms_own_and_never_the_pseudonym_key(
    make_settings: SettingsFactory,
) -> None:
    pseudonym = os.urandom(32)
    prod = make_settings(
        env="prod",
        pseudonym_key=base64.b64encode(pseudonym).decode(),
        master_keys={1: b64(32)},
    )
    key = promotion_signing_key(resolve_keyring(prod, announce=pytest.fail))
    assert len(key) == 32 and key != pseudonym
    # the trainer and the API, each resolving the keyring, sign and verify with one key
    assert promotion_signing_key(resolve_keyring(prod, announce=pytest.fail)) == key
    other = make_settings(env="prod", pseudonym_key=b64(32), master_keys={1: b64(32)})
    assert promotion_signing_key(resolve_keyring(other, announce=pytest.fail)) != key
    # outside dev / test there is no signing key without real keys
    with pytest.raises(KeyConfigError, match="ZHONGTAI_PSEUDONYM_KEY"):
        resolve_keyring(make_settings(env="prod"), announce=lambda _: None)
