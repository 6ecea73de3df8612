"""The dbt manifest build_warehouse is rendered from: compiled by `dbt parse` when the dbt
project changed, quietly, and without writing anything into the project folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from zhongtai.settings import Settings
from zhongtai.warehouse import manifest
from zhongtai.warehouse.dbt import DbtFailed, dbt_log_file, run_dbt
from zhongtai.warehouse.manifest import ensure_manifest, manifest_path, project_fingerprint
from zhongtai.warehouse.marts import marts


def _tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def test_the_manifest_is_compiled_quietly_once_and_again_when_the_project_changes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    project_before = _tree(settings.dbt_project_dir)
    capfd.readouterr()

    path = ensure_manifest(settings)

    console = capfd.readouterr()
    assert (console.out, console.err) == ("", "")  # dbt's output went to its log only
    assert "Running with dbt" in dbt_log_file(settings).read_text()
    assert path == manifest_path(settings)
    nodes = json.loads(path.read_text())["nodes"]
    assert {f"model.zhongtai.{mart}" for mart in marts(settings)} <= set(nodes)
    # dbt wrote nothing into the project (no target/, logs/ or "{{ env_var(...) }}/")
    assert _tree(settings.dbt_project_dir) == project_before

    def must_not_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("dbt parse ran although the project is unchanged")

    monkeypatch.setattr(manifest, "run_dbt", must_not_parse)
    assert ensure_manifest(settings) == path

    parses: list[list[str]] = []

    def counted(args: list[str], settings: Settings) -> object:
        parses.append(args)
        return run_dbt(args, settings)

    monkeypatch.setattr(manifest, "run_dbt", counted)
    monkeypatch.setattr(manifest, "project_fingerprint", lambda settings: "edited")
    assert ensure_manifest(settings) == path
    assert [args[0] for args in parses] == ["parse"]
    assert (path.parent / "fingerprint").read_text().strip() == "edited"


def test_the_fingerprint_follows_what_dbt_reads_and_nothing_else(
    settings: Settings, tmp_path: Path
) -> None:
    project = tmp_path / "dbt_project"
    ignored = shutil.ignore_patterns("target", "logs")
    shutil.copytree(settings.dbt_project_dir, project, ignore=ignored)
    settings = Settings(data_dir=settings.data_dir, project_dir=tmp_path, env="test")
    original = project_fingerprint(settings)

    (project / "README.md").write_text("a note dbt never reads\n")
    assert project_fingerprint(settings) == original

    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n-- edited\n")
    edited = project_fingerprint(settings)
    assert edited != original

    elsewhere = Settings(data_dir=tmp_path / "elsewhere", project_dir=tmp_path, env="test")
    assert project_fingerprint(elsewhere) != edited  # profiles.yml reads the data dir's paths


def test_a_dbt_failure_says_what_failed_and_where_dbts_log_is(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DbtFailed) as failed:
        run_dbt(["run-operation", "no_such_macro"], settings)
    assert "no_such_macro" in str(failed.value)
    assert str(dbt_log_file(settings)) in str(failed.value)
    assert capfd.readouterr().out == ""


def test_the_dbt_project_sets_no_path_that_dbt_would_not_render(settings: Settings) -> None:
    """dbt takes target-path and log-path literally, before any Jinja: an env_var() there
    once made a folder named "{{ env_var('ZHONGTAI_DBT_LOG_PATH', 'logs') }}"."""
    for name in ("dbt_project.yml", "profiles.yml"):
        text = (settings.dbt_project_dir / name).read_text()
        config = yaml.safe_load(text)
        assert not {"target-path", "log-path", "packages-install-path"} & set(config), name
    assert not [path for path in settings.dbt_project_dir.iterdir() if "{{" in path.name]
