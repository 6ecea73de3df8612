"""What the gates check is discovered from the project's files: a source, staging view or
mart nobody wrote expectations for fails its gate, naming it and the file to add it to."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.warehouse.project import (
    EXPECTATIONS,
    MART,
    SOURCE,
    STAGING_VIEW,
    add_expectations,
    with_settlements,
)
from zhongtai.quality.gates import GateFailed, run_gate
from zhongtai.quality.suites import LAYERS
from zhongtai.settings import Settings

UNCOVERED = {
    "raw": (SOURCE, f"source {SOURCE} (declared by its contract) has no expectations"),
    "staging": (STAGING_VIEW, f"staging view {STAGING_VIEW} (declared by its dbt staging model)"),
    "marts": (MART, f"mart {MART} (declared by its dbt mart model) has no expectations"),
    "reconciliation": (
        f"{SOURCE}_raw_to_staging",
        f"staging view {STAGING_VIEW} (source {SOURCE}) is not reconciled with its raw source",
    ),
}


@pytest.fixture(scope="module")
def unvalidated(world: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The world's data, under a project that declares settlements (contract, dbt models)
    and writes no expectation for it."""
    target = tmp_path_factory.mktemp("unvalidated") / "project"
    return with_settlements(world, target, expectations=False)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_new_source_with_no_expectations_fails_every_gate_naming_it(
    layer: str, unvalidated: Settings
) -> None:
    with pytest.raises(GateFailed) as failed:
        run_gate(layer, unvalidated)

    table, reason = UNCOVERED[layer]
    result = failed.value.result
    assert {report.table for report in result.tables if report.failures} == {table}
    (line,) = result.failures
    assert line.startswith(f"{layer}.{table}: {reason}")
    assert f"expectations/{layer}.yml" in line
    assert result.summary()["tables"][table] == {"uncovered": line.split(": ", 1)[1]}
    assert f"{layer}.{table}" in str(failed.value)


def test_its_expectations_in_the_suite_files_are_all_it_takes(
    unvalidated: Settings, tmp_path: Path
) -> None:
    """Written in each layer's file, the source's checks run (here, with no delivery yet,
    they are skipped) and the gates pass: no Python names the source. (Its mart is checked
    once built: tests/warehouse/test_undelivered_source.py.)"""
    covered = with_settlements(unvalidated, tmp_path / "project", expectations=False)
    for layer in ("raw", "staging", "reconciliation"):
        add_expectations(covered, layer, EXPECTATIONS[layer])
        result = run_gate(layer, covered)
        table, _ = UNCOVERED[layer]
        assert "skipped" in result.summary()["tables"][table], layer
