"""A source without a key of its own: landing derives one, deterministic and private."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.landing.delivery import INGEST_DATE, write_delivery
from tests.landing.keyless import KEY, SOURCE, keyless_project, line
from zhongtai.contracts import load_contract
from zhongtai.landing.land import LandingRefused, land_source
from zhongtai.landing.quarantine import read_quarantine
from zhongtai.landing.rawzone import batch_dir, read_manifests
from zhongtai.privacy.keys import resolve_keyring
from zhongtai.privacy.pseudonyms import pseudonymise
from zhongtai.settings import Settings


def _landed(settings: Settings) -> pa.Table:
    paths = sorted((settings.raw_dir / SOURCE).rglob("*.parquet"))
    return pa.concat_tables([pq.read_table(path) for path in paths])


def _land(settings: Settings, rows: list[dict[str, str]], name: str = "part-00000.csv") -> None:
    write_delivery(settings.inbox_dir, SOURCE, rows, name=name, settings=settings)
    land_source(SOURCE, INGEST_DATE, settings)


def _hashed(values: list[str | None], repeat: int = 1) -> str:
    """The documented key: SHA-256 of length-prefixed values, null as '-', '#n' for the
    n-th repeat, first 32 hex characters."""
    text = ",".join("-" if value is None else f"{len(value)}:{value}" for value in values)
    if repeat > 1:
        text += f"#{repeat}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def test_the_key_lands_as_a_contract_field_recomputable_from_the_landed_row(
    settings: Settings, tmp_path: Path
) -> None:
    settings = keyless_project(settings, tmp_path)
    _land(settings, [line(), line(account_ref="ACC-2", phone="", units="3", is_settled="false")])

    table = _landed(settings)
    contract = load_contract(SOURCE, settings)
    assert table.column_names[: len(contract.fields)] == [
        field.output_column for field in contract.fields
    ]
    assert table.schema.field(KEY).type == pa.string()
    phone = pseudonymise(
        pa.array(["13800138000"]), kind="phone", key=resolve_keyring(settings).pseudonym_key
    )[0].as_py()
    booked = int(datetime(2026, 11, 20, 8, 30, tzinfo=UTC).timestamp()) * 1_000_000
    first = [str(booked), "2026-11-20", "ACC-1", phone, "12.5", None, "true"]
    second = [str(booked), "2026-11-20", "ACC-2", None, "12.5", "3", "false"]
    assert table.column(KEY).to_pylist() == [_hashed(first), _hashed(second)]
    assert table.column("phone_pseudonym").to_pylist() == [phone, None]
    (manifest,) = read_manifests(settings.raw_dir, SOURCE)
    assert manifest.derived_key == KEY and manifest.repeated_key_rows == 0


def test_the_same_rows_get_the_same_keys_in_every_delivery(
    settings: Settings, tmp_path: Path
) -> None:
    settings = keyless_project(settings, tmp_path)
    rows = [line(account_ref=f"ACC-{index}") for index in range(5)]
    _land(settings, rows[:3], name="part-00000.csv")
    first = _landed(settings).column(KEY).to_pylist()

    _land(settings, [rows[4], *rows[:3]], name="part-00001.csv")  # redelivered, reordered

    (manifest,) = [
        m for m in read_manifests(settings.raw_dir, SOURCE) if m.source_file.endswith("01.csv")
    ]
    folder = batch_dir(settings.raw_dir, SOURCE, INGEST_DATE, manifest.batch_id)
    second = pq.read_table(folder / manifest.data_file).column(KEY).to_pylist()
    assert second[1:] == first
    assert len(set(first) | set(second)) == 4


def test_staging_keeps_one_row_per_derived_key_as_for_a_delivered_key(
    settings: Settings, tmp_path: Path
) -> None:
    settings = keyless_project(settings, tmp_path)
    rows = [line(account_ref=f"ACC-{index}") for index in range(3)]
    _land(settings, rows[:2], name="part-00000.csv")
    _land(settings, rows, name="part-00001.csv")

    raw = str(settings.raw_dir / SOURCE / "**" / "*.parquet")
    # dbt's latest_delivery(source, key), as in dbt_project/macros/staging.sql
    staged = duckdb.sql(
        f"""
        select {KEY}, account_ref from (
            select *, row_number() over (
                partition by {KEY} order by _loaded_at desc, _batch_id desc
            ) as _delivery_rank
            from read_parquet('{raw}')
        ) where _delivery_rank = 1 order by account_ref
        """
    ).fetchall()
    assert len(_landed(settings)) == 5
    assert [account for _, account in staged] == ["ACC-0", "ACC-1", "ACC-2"]


def test_identical_rows_are_numbered_never_dropped(settings: Settings, tmp_path: Path) -> None:
    settings = keyless_project(settings, tmp_path)
    same, other = line(), line(account_ref="ACC-9")
    _land(settings, [same, same, other, same])

    keys = _landed(settings).column(KEY).to_pylist()
    assert len(keys) == len(set(keys)) == 4
    plain = keys[0]
    assert keys[1] != plain and keys[3] != plain
    (manifest,) = read_manifests(settings.raw_dir, SOURCE)
    assert manifest.rows == 4 and manifest.repeated_key_rows == 2


def test_repeats_follow_the_documented_numbering(settings: Settings, tmp_path: Path) -> None:
    settings = keyless_project(
        settings, tmp_path, "record_key: {column: ledger_line_id, derive_from: [account_ref]}"
    )
    _land(settings, [line(amount="1"), line(amount="2"), line(amount="3")])

    keys = _landed(settings).column(KEY).to_pylist()
    assert keys == [_hashed(["ACC-1"]), _hashed(["ACC-1"], 2), _hashed(["ACC-1"], 3)]


def test_a_correction_redelivered_keeps_its_key_when_derived_from_identifying_fields(
    settings: Settings, tmp_path: Path
) -> None:
    settings = keyless_project(
        settings,
        tmp_path,
        "record_key: {column: ledger_line_id, derive_from: [account_ref, value_date]}",
    )
    _land(settings, [line(amount="10.0")], name="part-00000.csv")
    _land(settings, [line(amount="12.0", is_settled="false")], name="part-00001.csv")

    table = _landed(settings)
    assert table.num_rows == 2
    assert len(set(table.column(KEY).to_pylist())) == 1
    assert table.column(KEY)[0].as_py() == _hashed(["ACC-1", "2026-11-20"])


def test_typed_values_not_their_spelling_make_the_key(settings: Settings, tmp_path: Path) -> None:
    settings = keyless_project(
        settings, tmp_path, "record_key: {column: ledger_line_id, derive_from: [booked_at, amount]}"
    )
    _land(settings, [line(), line(amount="12.50", booked_at="2026-11-20T09:30:00+01:00")])

    booked = str(int(datetime(2026, 11, 20, 8, 30, tzinfo=UTC).timestamp()) * 1_000_000)
    # the same instant and amount spelt another way: a repeat of the first row
    assert _landed(settings).column(KEY).to_pylist() == [
        _hashed([booked, "12.5"]),
        _hashed([booked, "12.5"], 2),
    ]


def test_a_file_with_repeats_is_refused_when_the_contract_says_so(
    settings: Settings, tmp_path: Path
) -> None:
    settings = keyless_project(
        settings,
        tmp_path,
        "record_key: {column: ledger_line_id, derive_from: [account_ref], duplicates: refuse}",
    )
    rows = [line(), line(account_ref="ACC-2"), line(phone="13900139000"), line()]
    path = write_delivery(settings.inbox_dir, SOURCE, rows, settings=settings)

    with pytest.raises(LandingRefused) as refused:
        land_source(SOURCE, INGEST_DATE, settings)

    assert str(path) in str(refused.value)
    (record,) = read_quarantine(settings.quarantine_dir, SOURCE)
    assert record.reasons == ["duplicate_record"]
    reason = json.loads((record.path / "reason.json").read_text())
    assert [(p["row"], p["field"]) for p in reason["problems"]] == [(3, KEY), (4, KEY)]
    assert "as row 1" in reason["problems"][0]["detail"]
    assert "13900139000" not in json.dumps(reason)
    assert not (settings.raw_dir / SOURCE).exists()


def test_a_delivery_that_carries_the_derived_key_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    settings = keyless_project(settings, tmp_path)
    header = [KEY, *line()]
    write_delivery(
        settings.inbox_dir, SOURCE, [{KEY: "mine", **line()}], header=header, settings=settings
    )

    with pytest.raises(LandingRefused, match=f"derived_field \\(field '{KEY}'\\)"):
        land_source(SOURCE, INGEST_DATE, settings)


def test_an_empty_delivery_lands_no_rows(settings: Settings, tmp_path: Path) -> None:
    settings = keyless_project(settings, tmp_path)
    _land(settings, [])
    table = _landed(settings)
    assert table.num_rows == 0 and KEY in table.column_names


def test_sources_with_their_own_key_land_as_before(settings: Settings) -> None:
    contract = load_contract("partner_portfolio")
    assert contract.record_key is None
    assert contract.delivered_fields == contract.fields
