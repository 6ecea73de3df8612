from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.landing.delivery import INGEST_DATE, application, write_delivery
from zhongtai.landing.land import LandingRefused, land_source
from zhongtai.landing.quarantine import read_quarantine
from zhongtai.landing.rawzone import file_sha256, read_manifests
from zhongtai.privacy.files import decrypt_file
from zhongtai.privacy.keys import resolve_keyring
from zhongtai.privacy.vault import Vault
from zhongtai.settings import Settings


def _tree(root: Path) -> dict[str, float]:
    return {str(path): path.stat().st_mtime_ns for path in root.rglob("*")}


def _refused(settings: Settings) -> LandingRefused:
    with pytest.raises(LandingRefused) as refused:
        land_source("applications", INGEST_DATE, settings)
    return refused.value


def test_a_valid_file_lands_pseudonymised_with_a_manifest(settings: Settings) -> None:
    rows = [application(index) for index in range(1, 4)]
    write_delivery(settings.inbox_dir, "applications", rows)

    outcome = land_source("applications", INGEST_DATE, settings)

    (manifest,) = outcome.landed
    folder = (
        settings.raw_dir
        / "applications"
        / "ingest_date=2026-11-23"
        / f"batch_id={manifest.batch_id}"
    )
    table = pq.read_table(folder / manifest.data_file)
    assert manifest.rows == table.num_rows == 3
    assert manifest.data_sha256 == file_sha256(folder / manifest.data_file)
    assert manifest.schema_version == 1
    assert {"national_id", "name", "phone", "residential_address"}.isdisjoint(table.column_names)
    assert {"applicant_id", "name_pseudonym", "phone_pseudonym"} <= set(table.column_names)
    assert table.schema.field("applied_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("monthly_income_minor").type == pa.int64()
    assert table.column("has_consented_marketing").to_pylist() == [False] * 3


def test_clear_values_are_kept_only_in_the_vault(settings: Settings) -> None:
    write_delivery(settings.inbox_dir, "applications", [application(7)])
    land_source("applications", INGEST_DATE, settings)
    (manifest,) = read_manifests(settings.raw_dir, "applications")
    table = pq.read_table(next((settings.raw_dir / "applications").rglob("*.parquet")))
    subject = table.column("applicant_id")[0].as_py()

    with Vault.open(settings.vault_path, resolve_keyring(settings)) as vault:
        clear = vault.get(subject)

    assert clear["name"] == "张7"
    assert clear["national_id"] == application(7)["national_id"]
    assert manifest.vaulted_fields == ["national_id", "name", "phone", "residential_address"]


def test_rerunning_a_date_writes_nothing_new(settings: Settings) -> None:
    write_delivery(settings.inbox_dir, "applications", [application(1)])
    first = land_source("applications", INGEST_DATE, settings)
    before = _tree(settings.raw_dir)

    second = land_source("applications", INGEST_DATE, settings)

    assert _tree(settings.raw_dir) == before
    assert second.landed == []
    assert [m.batch_id for m in second.already_landed] == [m.batch_id for m in first.landed]


def test_an_undeclared_field_is_quarantined_naming_file_and_field(settings: Settings) -> None:
    header = [*application(1), "favourite_colour"]
    path = write_delivery(settings.inbox_dir, "applications", [application(1)], header=header)

    refused = _refused(settings)

    assert str(path) in str(refused) and "'favourite_colour'" in str(refused)
    (record,) = read_quarantine(settings.quarantine_dir, "applications")
    assert record.reasons == ["undeclared_field"]
    assert not settings.raw_dir.exists() or not any(settings.raw_dir.rglob("*.parquet"))


@pytest.mark.parametrize(
    "column", ["contacts", "sms_inbox", "photos", "audio_recording", "location_history"]
)
def test_prohibited_data_is_refused_even_if_sent(settings: Settings, column: str) -> None:
    write_delivery(
        settings.inbox_dir, "applications", [application(1)], header=[*application(1), column]
    )
    refused = _refused(settings)
    assert refused.refused[0].reasons == ["prohibited_field"]
    assert f"'{column}'" in str(refused)


def test_a_wrong_type_names_row_and_field_without_leaking_identifiers(settings: Settings) -> None:
    rows = [
        application(1),
        application(2, term_months="twelve"),
        application(3, national_id="11010519491231003X", applied_at="yesterday"),
    ]
    write_delivery(settings.inbox_dir, "applications", rows)

    refused = _refused(settings)

    record = json.loads((refused.refused[0].path / "reason.json").read_text())
    problems = {(p["row"], p["field"]): p for p in record["problems"]}
    assert record["reasons"] == ["wrong_type"]
    assert "'twelve' is not an integer" in problems[(2, "term_months")]["detail"]
    assert (3, "applied_at") in problems
    assert "row 2, field 'term_months'" in str(refused)
    assert "11010519491231003X" not in json.dumps(record, ensure_ascii=False)


def test_an_unparseable_row_is_named(settings: Settings) -> None:
    path = write_delivery(settings.inbox_dir, "applications", [application(1), application(2)])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("A-3,2026-11-20T08:30:00Z,only-three-fields\n")

    refused = _refused(settings)

    assert refused.refused[0].reasons == ["unparseable_row"]
    assert "row 3" in str(refused) and "expected 21 fields, found 3" in str(refused)


def test_a_missing_required_value_is_named(settings: Settings) -> None:
    write_delivery(settings.inbox_dir, "applications", [application(1, phone="")])
    refused = _refused(settings)
    assert "missing_value (row 1, field 'phone')" in str(refused)


def test_quarantine_keeps_the_file_whole_and_encrypted(settings: Settings) -> None:
    path = write_delivery(settings.inbox_dir, "applications", [application(1, term_months="x")])
    (record,) = _refused(settings).refused
    (encrypted,) = record.path.glob("*.enc")

    assert application(1)["national_id"].encode() not in encrypted.read_bytes()
    assert decrypt_file(encrypted, resolve_keyring(settings)) == path.read_bytes()


def test_good_files_land_beside_a_refused_one_and_a_rerun_refuses_again(settings: Settings) -> None:
    write_delivery(settings.inbox_dir, "applications", [application(1)], name="part-00000.csv")
    write_delivery(
        settings.inbox_dir, "applications", [application(2, term_months="x")], name="part-00001.csv"
    )

    _refused(settings)
    landed = read_manifests(settings.raw_dir, "applications")
    before = {**_tree(settings.raw_dir), **_tree(settings.quarantine_dir)}
    again = _refused(settings)

    assert [Path(m.source_file).name for m in landed] == ["part-00000.csv"]
    assert len(again.refused) == 1
    assert {**_tree(settings.raw_dir), **_tree(settings.quarantine_dir)} == before
