"""Fixtures: settings rooted in ``tmp_path``, isolated from the developer's environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zhongtai.privacy.keys import KeyRing
from zhongtai.settings import Settings


@pytest.fixture(autouse=True)
def _no_zhongtai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ZHONGTAI_"):
            monkeypatch.delenv(name)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_dir": tmp_path, "env": "test", **overrides}
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing(pseudonym_key=os.urandom(32), master_keys={1: os.urandom(32)}, active_version=1)
