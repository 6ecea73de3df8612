"""Raw and staging gates read only what the warehouse has not taken in yet."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from zhongtai.quality.gates import GateFailed, run_gate
from zhongtai.quality.published import (
    last_published_ingest_date,
    mark_published,
    pending_ingest_dates,
    published_path,
)
from zhongtai.settings import Settings

from .conftest import PlantBatch


def test_everything_is_pending_until_the_first_publish(
    world_copy: Settings, delivery_date: date
) -> None:
    assert last_published_ingest_date(world_copy) is None
    assert pending_ingest_dates(world_copy) == [delivery_date]

    assert mark_published(world_copy, [delivery_date.isoformat()]) == [delivery_date]
    assert pending_ingest_dates(world_copy) == []
    state = json.loads(published_path(world_copy).read_text())
    assert state["last_published_ingest_date"] == delivery_date.isoformat()


def test_a_published_bad_partition_is_not_checked_again_but_a_new_one_is(
    world_copy: Settings, plant_raw_batch: PlantBatch, delivery_date: date
) -> None:
    old_bad_day, new_bad_day = delivery_date + timedelta(days=1), delivery_date + timedelta(days=2)
    old_batch = plant_raw_batch(
        world_copy, "loans", old_bad_day, change={"principal_minor": {0: -1}}
    )
    with pytest.raises(GateFailed, match=old_batch):
        run_gate("raw", world_copy)

    mark_published(world_copy, [delivery_date, old_bad_day])
    for layer in ("raw", "staging"):
        nothing_pending = run_gate(layer, world_copy)
        assert nothing_pending.success
        assert nothing_pending.ingest_dates == ()
        assert all(table.skipped for table in nothing_pending.tables)

    new_batch = plant_raw_batch(world_copy, "loans", new_bad_day, change={"apr_bps": {1: 3600}})
    with pytest.raises(GateFailed) as failed:
        run_gate("raw", world_copy)
    message = str(failed.value)
    assert new_batch in message and "apr_bps" in message and "3600" in message
    assert old_batch not in message
    result = failed.value.result
    assert result.ingest_dates == (new_bad_day,)
    skipped = {table.table for table in result.tables if table.skipped}
    assert "loans" not in skipped and "applications" in skipped


def test_a_damaged_publication_record_is_named(world_copy: Settings) -> None:
    published_path(world_copy).parent.mkdir(parents=True, exist_ok=True)
    published_path(world_copy).write_text("{not json")
    with pytest.raises(ValueError, match=r"published\.json"):
        pending_ingest_dates(world_copy)
