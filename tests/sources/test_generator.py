"""The inbox files: contracts, determinism, identifiers, time and referential integrity."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from zhongtai.sources import identifiers as ids
from zhongtai.sources.generator import SOURCES, GenerationReport, generate

from .conftest import APPLICANTS, CHUNK_SIZE, DELIVERY, SEED, contract

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INTEGER = re.compile(r"^-?\d+$")
MOBILE = re.compile(r"^1(3\d|5[0-35-9]|7[013-8]|8\d|9[135-9])\d{8}$")
CUTOFF = "2025-06-01T00:00:00Z"  # ISO text sorts like time


def _digest(report: GenerationReport) -> dict[str, str]:
    return {
        f"{source}/{path.name}": hashlib.sha256(path.read_bytes()).hexdigest()
        for source, paths in report.files.items()
        for path in paths
    }


def _values(table: pa.Table, column: str) -> list[str]:
    return [v for v in table[column].to_pylist() if v is not None]


def test_layout_is_one_part_per_chunk_and_source(inbox: tuple[Path, GenerationReport]) -> None:
    root, report = inbox
    assert set(report.files) == set(SOURCES)
    for source in SOURCES:
        names = sorted(p.relative_to(root).as_posix() for p in report.files[source])
        assert names == [f"2025-06-01/{source}/part-{i:05d}.csv" for i in range(2)]
    assert not list(root.rglob("*.partial"))


@pytest.mark.parametrize("source", SOURCES)
def test_files_follow_the_data_contract(
    source: str, inbox: tuple[Path, GenerationReport], sources: dict[str, pa.Table]
) -> None:
    fields = contract(source)["fields"]
    _, report = inbox
    for path in report.files[source]:
        header = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert header == ",".join(f["name"] for f in fields)
    table = sources[source]
    assert table.num_rows == report.rows[source] > 0
    for field in fields:
        values = table[field["name"]]
        if field.get("required"):
            assert values.null_count == 0, field["name"]
        present = _values(table, field["name"])
        pattern = {"int64": INTEGER, "timestamp": TIMESTAMP, "date": DATE}.get(field["type"])
        if pattern is not None:
            assert all(pattern.match(v) for v in present), field["name"]
        if field["type"] == "bool":
            assert set(present) <= {"true", "false"}, field["name"]


def test_same_seed_gives_identical_bytes_and_another_seed_differs(
    tmp_path: Path, inbox: tuple[Path, GenerationReport]
) -> None:
    _, report = inbox
    again = generate(
        tmp_path / "a", applicants=APPLICANTS, seed=SEED, delivery_date=DELIVERY,
        chunk_size=CHUNK_SIZE,
    )  # fmt: skip
    other = generate(
        tmp_path / "b", applicants=APPLICANTS, seed=SEED + 1, delivery_date=DELIVERY,
        chunk_size=CHUNK_SIZE,
    )  # fmt: skip
    assert _digest(again) == _digest(report)
    assert _digest(other).keys() == _digest(report).keys()
    assert all(_digest(other)[k] != v for k, v in _digest(report).items())


def test_rerun_with_fewer_chunks_leaves_no_stale_parts(tmp_path: Path) -> None:
    generate(tmp_path, applicants=300, seed=1, delivery_date=DELIVERY, chunk_size=100)
    report = generate(tmp_path, applicants=300, seed=1, delivery_date=DELIVERY, chunk_size=300)
    for source in SOURCES:
        on_disk = sorted((tmp_path / "2025-06-01" / source).iterdir())
        assert on_disk == report.files[source]


def test_progress_counts_every_applicant_once(tmp_path: Path) -> None:
    done: list[int] = []
    generate(
        tmp_path, applicants=250, seed=1, delivery_date=DELIVERY, chunk_size=100,
        progress=done.append,
    )  # fmt: skip
    assert done == [100, 100, 50]


def test_national_ids_are_valid_unique_per_applicant_and_match_birth_date(
    sources: dict[str, pa.Table],
) -> None:
    apps = sources["applications"]
    national_id = apps["national_id"].to_pylist()
    assert all(len(v) == 18 and ids.is_valid_national_id(v) for v in national_id)
    birth = apps["birth_date"].to_pylist()
    assert all(n[6:14] == b.replace("-", "") for n, b in zip(national_id, birth, strict=True))
    # one applicant, one ID: exactly APPLICANTS people, across both chunks
    assert len(set(national_id)) == APPLICANTS
    assert {n[:6] for n in national_id} <= {str(a.code) for a in ids.AREAS}
    city = apps["city_code"].to_pylist()
    assert all(c == n[:4] + "00" for n, c in zip(national_id, city, strict=True))


def test_applicants_are_adults_up_to_70_with_mainland_mobiles(
    sources: dict[str, pa.Table],
) -> None:
    apps = sources["applications"]
    applied = [d[:10] for d in apps["applied_at"].to_pylist()]
    for born, on in zip(apps["birth_date"].to_pylist(), applied, strict=True):
        b, a = date.fromisoformat(born), date.fromisoformat(on)
        age = a.year - b.year - ((a.month, a.day) < (b.month, b.day))
        assert 18 <= age <= 70
    assert all(MOBILE.match(p) for p in apps["phone"].to_pylist())


def test_repeat_borrowers_make_about_1_2_applications_per_applicant(
    sources: dict[str, pa.Table],
) -> None:
    ratio = sources["applications"].num_rows / APPLICANTS
    assert 1.1 < ratio < 1.3


def test_ids_are_unique_across_chunks(sources: dict[str, pa.Table]) -> None:
    for source, column in [
        ("applications", "application_id"),
        ("loans", "loan_id"),
        ("repayments", "instalment_id"),
        ("bureau_inquiries", "inquiry_id"),
        ("device_events", "event_id"),
        ("lists", "list_entry_id"),
    ]:
        values = sources[source][column]
        assert len(pc.unique(values)) == len(values), source


@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("applications", "applied_at"),
        ("loans", "disbursed_at"),
        ("repayments", "paid_at"),
        ("bureau_inquiries", "inquired_at"),
        ("device_events", "occurred_at"),
        ("lists", "added_at"),
    ],
)
def test_nothing_happens_on_or_after_the_delivery_date(
    source: str, column: str, sources: dict[str, pa.Table]
) -> None:
    values = _values(sources[source], column)
    assert values and max(values) < CUTOFF
    if source != "lists":  # lists also hold entries added before the history window
        assert min(values) > "2022-12"  # 27 months of history, inquiries up to 90 days more


def test_history_spans_27_months(sources: dict[str, pa.Table]) -> None:
    months = {v[:7] for v in sources["applications"]["applied_at"].to_pylist()}
    assert {"2023-03", "2025-05"} <= months
    assert len(months) >= 27


def test_loans_come_from_approved_applications_within_three_days(
    sources: dict[str, pa.Table],
) -> None:
    apps, loans = sources["applications"], sources["loans"]
    applied = dict(
        zip(apps["application_id"].to_pylist(), apps["applied_at"].to_pylist(), strict=True)
    )
    share = loans.num_rows / apps.num_rows
    assert 0.55 <= share <= 0.65
    for application_id, disbursed in zip(
        loans["application_id"].to_pylist(), loans["disbursed_at"].to_pylist(), strict=True
    ):
        gap = date.fromisoformat(disbursed[:10]) - date.fromisoformat(applied[application_id][:10])
        assert 0 <= gap.days <= 3


def test_repayments_belong_to_loans_and_never_overpay(sources: dict[str, pa.Table]) -> None:
    loans, rep = sources["loans"], sources["repayments"]
    loan_ids = set(loans["loan_id"].to_pylist())
    assert set(rep["loan_id"].to_pylist()) <= loan_ids
    due = pc.cast(rep["amount_due_minor"], pa.int64())
    fee = pc.cast(rep["fee_minor"], pa.int64())
    paid = pc.cast(rep["amount_paid_minor"], pa.int64())
    assert pc.all(pc.less_equal(paid, pc.add(due, fee))).as_py()
    assert pc.all(pc.greater_equal(fee, 0)).as_py()
    # unpaid rows have no payment time, paid rows have one
    assert pc.all(pc.equal(pc.is_null(rep["paid_at"]), pc.equal(paid, 0))).as_py()
    assert max(rep["due_date"].to_pylist()) < DELIVERY.isoformat()
    ids_ok = all(
        i == f"{loan}-{int(n):03d}"
        for i, loan, n in zip(
            rep["instalment_id"].to_pylist(),
            rep["loan_id"].to_pylist(),
            rep["instalment_number"].to_pylist(),
            strict=True,
        )
    )
    assert ids_ok


def test_late_payers_pay_a_fee_and_some_borrowers_default(sources: dict[str, pa.Table]) -> None:
    rep = sources["repayments"]
    fee = pc.cast(rep["fee_minor"], pa.int64())
    paid = pc.cast(rep["amount_paid_minor"], pa.int64())
    late_and_paid = pc.and_(pc.greater(fee, 0), pc.greater(paid, 0))
    unpaid = pc.equal(paid, 0)
    assert 0.01 < pc.mean(late_and_paid.cast(pa.float64())).as_py() < 0.2
    assert 0.01 < pc.mean(unpaid.cast(pa.float64())).as_py() < 0.2


def test_partner_id_is_set_exactly_for_partner_channel(sources: dict[str, pa.Table]) -> None:
    apps = sources["applications"]
    for channel, partner in zip(
        apps["channel"].to_pylist(), apps["partner_id"].to_pylist(), strict=True
    ):
        assert (channel == "partner_api") == (partner is not None)
        assert partner is None or re.match(r"^P00[1-5]$", partner)


def test_consents_are_near_universal_except_marketing(sources: dict[str, pa.Table]) -> None:
    apps = sources["applications"]
    share = {
        c: Counter(apps[c].to_pylist())["true"] / apps.num_rows
        for c in apps.column_names
        if c.startswith("has_consented")
    }
    assert share["has_consented_credit_scoring"] > 0.98
    assert share["has_consented_fraud_prevention"] > 0.98
    assert 0.3 < share["has_consented_marketing"] < 0.5


def test_every_list_entry_names_exactly_one_identifier(sources: dict[str, pa.Table]) -> None:
    lists = sources["lists"]
    columns = [lists[c].to_pylist() for c in ("national_id", "phone", "device_id")]
    filled = zip(*columns, strict=True)
    assert all(sum(v is not None for v in row) == 1 for row in filled)
    assert set(lists["list_type"].to_pylist()) == {"black", "grey", "white"}
    expires = lists["expires_at"].to_pylist()
    assert any(e is None for e in expires) and any(e is not None for e in expires)
    added = lists["added_at"].to_pylist()
    assert all(e is None or e > a for a, e in zip(added, expires, strict=True))


def test_device_events_link_only_application_events(sources: dict[str, pa.Table]) -> None:
    events, apps = sources["device_events"], sources["applications"]
    app_ids = set(apps["application_id"].to_pylist())
    linked_types = set()
    for event_type, application_id in zip(
        events["event_type"].to_pylist(), events["application_id"].to_pylist(), strict=True
    ):
        if application_id is not None:
            assert application_id in app_ids
            linked_types.add(event_type)
    assert linked_types == {"otp_request", "application_submit", "contract_sign"}
    assert set(events["os"].to_pylist()) == {"android", "ios"}


def test_bad_arguments_are_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="applicants"):
        generate(tmp_path, applicants=0, seed=1, delivery_date=DELIVERY)
    with pytest.raises(ValueError, match="seed"):
        generate(tmp_path, applicants=10, seed=-1, delivery_date=DELIVERY)
    with pytest.raises(ValueError, match="chunk_size"):
        generate(tmp_path, applicants=10, seed=1, delivery_date=DELIVERY, chunk_size=0)
