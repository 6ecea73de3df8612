"""Reconciliation: a mart that lost or invented rows fails, naming the day and both counts."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from zhongtai.quality.gates import GateFailed, run_gate
from zhongtai.quality.reconcile import NOT_IN_STAGING, reconciliation_frame
from zhongtai.quality.suites import load_suite_spec
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path


def test_every_reconciliation_frame_holds_the_columns_its_suite_compares(world: Settings) -> None:
    spec = load_suite_spec("reconciliation", world.expectations_dir)
    for table, table_spec in spec.tables.items():
        frame = reconciliation_frame(table, world)
        assert set(table_spec.columns_used()) <= set(frame.columns), table
        assert len(frame) >= 1


def test_raw_counts_each_key_once_on_the_day_of_its_latest_delivery(world: Settings) -> None:
    frame = reconciliation_frame("repayments_raw_to_staging", world)
    raw_rows = pq.read_table(next(iter(world.raw_dir.glob("repayments/*/*/*.parquet")))).num_rows
    assert frame["raw_rows"].sum() == raw_rows == frame["staging_rows"].sum()


def test_labels_that_lose_loans_and_gain_strangers_fail_reconciliation(
    world_copy: Settings, delivery_date: date
) -> None:
    path = mart_path(world_copy, "loan_performance_labels")
    labels = pq.read_table(path)
    lost = labels.slice(0, 3)
    loan_id = labels.schema.get_field_index("loan_id")
    stranger = labels.slice(3, 1).set_column(
        loan_id, labels.schema.field(loan_id), pa.array(["LN-NOT-IN-STAGING"])
    )
    kept = labels.filter(pc.invert(pc.is_in(labels.column("loan_id"), lost.column("loan_id"))))
    pq.write_table(pa.concat_tables([kept, stranger]), path)

    with pytest.raises(GateFailed) as failed:
        run_gate("reconciliation", world_copy)

    message = str(failed.value)
    rows = next(
        line
        for line in message.splitlines()
        if "loans_staging_to_labels" in line and "column_A='staging_rows'" in line
    )
    assert "column_B='labels_rows'" in rows
    assert "2 of 2 rows unexpected" in rows  # the day that lost three, and the stranger's
    assert f"'ingest_date': '{delivery_date.isoformat()}'" in rows
    assert f"'ingest_date': '{NOT_IN_STAGING}'" in rows
    assert "'labels_rows': 1" in rows
    paid = [line for line in message.splitlines() if "labels_amount_paid_minor" in line]
    assert paid, message
    failing = {table.table for table in failed.value.result.tables if table.failures}
    assert failing == {"loans_staging_to_labels"}
