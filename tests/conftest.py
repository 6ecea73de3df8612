"""Shared fixtures: every test gets its own data dir and keys; Airflow never touches ~/airflow."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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

from zhongtai.serving import free_port, serving  # noqa: E402, F401 (shared with tests)
from zhongtai.settings import Settings  # noqa: E402


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings rooted in a fresh data dir, with a dev keyring created on first use."""
    for name in ("ZHONGTAI_PSEUDONYM_KEY", "ZHONGTAI_MASTER_KEYS", "ZHONGTAI_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZHONGTAI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ZHONGTAI_ENV", "test")
    return Settings(data_dir=tmp_path / "var", env="test")


@contextmanager
def running_redis(workdir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real redis-server on a free port: yields Feast's ``host:port`` and the process
    (a test may stop it to see what the platform does without its online store).

    `make test` installs redis-server; in CI (CI=true) its absence fails instead of skipping.
    """
    import shutil
    import time

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (make test installs it with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    process = subprocess.Popen(
        [binary, "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"redis-server did not start on port {port}") from None
            time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the session; yields Feast's ``host:port``."""
    with running_redis(tmp_path_factory.mktemp("redis")) as (connection, _):
        yield connection


@pytest.fixture(scope="session")
def feature_world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A small world (enough applicants for a few fraud rings) with its marts, feature
    tables and a materialised SQLite online store, built once; tests only read it."""
    from tests.worlds import build_world
    from zhongtai.features.build import build_features

    settings = Settings(data_dir=tmp_path_factory.mktemp("feature-world") / "var", env="test")
    build_world(settings, applicants=1500, seed=17, delivery_date=settings.today())
    build_features(settings, progress=lambda _: None)
    return settings


@pytest.fixture(scope="session")
def served_world(feature_world: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The feature world's copy (its keys too, so pseudonyms agree) with its online store
    loaded and champion versions 1 of credit_pd and fraud."""
    import shutil

    from tests.ml.gates import with_gates
    from tests.worlds import copy_world
    from zhongtai.decision.champions import FAMILIES
    from zhongtai.features.materialize import materialize_features
    from zhongtai.ml.retrain import retrain

    settings = copy_world(feature_world, tmp_path_factory.mktemp("served"))
    shutil.copytree(feature_world.keys_dir, settings.keys_dir)
    materialize_features(settings)
    for family in FAMILIES:
        outcome = retrain(with_gates(family), settings, progress=lambda _: None)
        assert outcome.promoted, (family, outcome.decision, outcome.metrics)
    return settings
