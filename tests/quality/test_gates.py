"""The four gates on a real small world: good data passes, bad data stops with a useful message."""

from __future__ import annotations

import json
import socket
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from zhongtai.quality.gates import GateFailed, GateResult, run_gate
from zhongtai.quality.suites import LAYERS, load_suite_spec, suite_path
from zhongtai.settings import Settings

from .conftest import PlantBatch


@pytest.fixture(scope="module")
def network_attempts() -> list[Any]:
    return []


@pytest.fixture(scope="module")
def passed(world: Settings, network_attempts: list[Any]) -> dict[str, GateResult]:
    """Every gate run once on the good world, in the DAG's order, with the network cut."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        network_attempts.append(args)
        raise OSError("network disabled by the test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        return {layer: run_gate(layer, world) for layer in LAYERS}


@pytest.mark.parametrize("layer", LAYERS)
def test_every_gate_passes_on_good_data(
    passed: dict[str, GateResult], layer: str, world: Settings
) -> None:
    result = passed[layer]
    assert result.success, result.message()
    validated = [table for table in result.tables if not table.skipped]
    spec = load_suite_spec(layer, world.expectations_dir)
    assert {table.table for table in validated} == set(spec.tables)
    assert all(table.rows > 0 and table.expectations > 0 for table in validated)


def test_summary_is_a_small_json_xcom(passed: dict[str, GateResult], delivery_date: date) -> None:
    summary = passed["raw"].summary()
    text = json.dumps(summary)
    assert len(text) < 5000
    assert summary["success"] is True
    assert summary["ingest_dates"] == [delivery_date.isoformat()]
    assert summary["tables"]["applications"]["failed"] == 0
    assert summary["data_docs"].endswith("data_docs/index.html")


def test_data_docs_list_every_suite(passed: dict[str, GateResult], world: Settings) -> None:
    index = world.quality_dir / "data_docs" / "index.html"
    assert index.is_file()
    assert str(index.resolve()) == str(passed["marts"].docs_index.resolve())
    html = index.read_text()
    for layer in LAYERS:
        for table in load_suite_spec(layer, world.expectations_dir).tables:
            assert f"{layer}.{table}" in html


def test_a_negative_income_and_a_clear_national_id_stop_the_raw_gate(
    world_copy: Settings, plant_raw_batch: PlantBatch, delivery_date: date
) -> None:
    bad_day = delivery_date + timedelta(days=1)
    batch_id = plant_raw_batch(
        world_copy,
        "applications",
        bad_day,
        change={"monthly_income_minor": {3: -250_000}, "applicant_id": {5: "11010519491231002X"}},
    )
    with pytest.raises(GateFailed) as failed:
        run_gate("raw", world_copy)

    message = str(failed.value)
    lines = message.splitlines()
    income = next(line for line in lines if "monthly_income_minor" in line)
    assert "raw.applications" in income
    assert "expect_column_values_to_be_between" in income
    assert "1 of " in income and "rows unexpected" in income
    assert batch_id in income and "-250000" in income
    assert "'application_id': 'APP" in income
    pseudonym = next(line for line in lines if "match_regex(column='applicant_id'" in line)
    assert batch_id in pseudonym and "'applicant_id': '<redacted: 18 characters>'" in pseudonym
    # The clear national ID the privacy check caught is copied nowhere: not in the message,
    # not in the stored results, not in Data Docs.
    assert "11010519491231002X" not in message
    written = [path for path in world_copy.quality_dir.rglob("*") if path.is_file()]
    assert written and not [path for path in written if b"11010519491231002X" in path.read_bytes()]
    assert f"Data Docs: {world_copy.quality_dir.resolve()}" in message
    assert bad_day.isoformat() in message

    result = failed.value.result
    assert not result.success
    assert {table.table for table in result.tables if table.failures} == {"applications"}


def test_stale_raw_data_warns_after_26_hours_and_stops_after_74(world: Settings) -> None:
    with pytest.raises(GateFailed) as failed:
        run_gate("raw", world, run_time=world.now() + timedelta(hours=80))

    result = failed.value.result
    critical, warnings = result.failures, result.warnings
    assert critical and all("max_to_be_between(column='_loaded_at'" in line for line in critical)
    assert all("max_value=" in line for line in critical)  # the 74 h check, not the 26 h one
    assert any("max_to_be_between(column='_loaded_at'" in line for line in warnings)
    assert "warning(s)" in str(failed.value)


def test_a_missing_mart_is_a_finding_not_a_crash(world_copy: Settings, tmp_path: Path) -> None:
    marts = yaml.safe_load(suite_path("marts", world_copy.expectations_dir).read_text())
    marts["tables"] = {"list_entries": marts["tables"]["list_entries"]}
    (tmp_path / "marts.yml").write_text(yaml.safe_dump(marts))
    (world_copy.marts_dir / "list_entries.parquet").unlink()

    with pytest.raises(GateFailed) as failed:
        run_gate("marts", world_copy, expectations_dir=tmp_path)
    assert "marts.list_entries: could not be read" in str(failed.value)
    assert "list_entries.parquet" in str(failed.value)


def test_the_gates_call_nobody(passed: dict[str, GateResult], network_attempts: list[Any]) -> None:
    """Quality results stay on the machine: no usage statistics, no network at all."""
    assert all(result.success for result in passed.values())
    assert network_attempts == []
