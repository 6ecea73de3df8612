"""Shared fixtures: every test gets its own data dir and keys; Airflow never touches ~/airflow."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

# Before anything imports Airflow: a throwaway home and no example DAGs.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="zhongtai-airflow-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# Cosmos caches `dbt ls` in Airflow Variables; DAG-parsing tests run without a metadata DB.
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_CACHE_DBT_LS", "False")
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
# As under Airflow (zhongtai.airflow_env): the venv's executables (dbt, airflow) on PATH.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).parents[1] / "dags")

from zhongtai.settings import Settings  # noqa: E402


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings rooted in a fresh data dir, with a dev keyring created on first use."""
    for name in ("ZHONGTAI_PSEUDONYM_KEY", "ZHONGTAI_MASTER_KEYS", "ZHONGTAI_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZHONGTAI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ZHONGTAI_ENV", "test")
    return Settings(data_dir=tmp_path / "var", env="test")
