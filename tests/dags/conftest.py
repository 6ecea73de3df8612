"""DAG files are parsed as Airflow parses them: against a data dir whose dbt manifest was
compiled beforehand (as ``zhongtai airflow ...`` does before Airflow starts)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zhongtai.settings import Settings
from zhongtai.warehouse.manifest import ensure_manifest


@pytest.fixture(scope="session", autouse=True)
def dag_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """ZHONGTAI_DATA_DIR points at a fresh data dir with a compiled manifest, for the
    session: DAG files read the manifest's path from Settings()."""
    data_dir = tmp_path_factory.mktemp("dags") / "var"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZHONGTAI_DATA_DIR", str(data_dir))
        patch.delenv("ZHONGTAI_AS_OF", raising=False)
        settings = Settings()
        ensure_manifest(settings)
        yield settings
