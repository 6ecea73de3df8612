"""The audit log: appended records verify, and every kind of tampering is pinpointed."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zhongtai.settings import Settings
from zhongtai.stores.audit import (
    GENESIS_HASH,
    AuditLog,
    audit_log_path,
    audit_verify,
    canonical_json,
    payload_hash,
    record_hash,
    verify,
)

HEADER = "action, at, model_versions, partner_id, payload_hash, prev_hash, purpose, rules_version"
PAYLOAD = "applicant_id, decision_id, features, outcome, payload_salt"
COLUMNS = f"seq, {HEADER}, hash, {PAYLOAD}"
NAMES = [name.strip() for name in COLUMNS.split(",")]


def applicant(n: int) -> str:
    return hashlib.sha256(f"applicant {n}".encode()).hexdigest()


def append_decision(log: AuditLog, n: int) -> None:
    log.append(
        partner_id="bank-a",
        purpose="credit_scoring",
        action="decision",
        applicant_id=applicant(n),
        decision_id=f"decision-{n}",
        features={"debt_to_income": 0.25 + n / 100, "distinct_lenders_30_days": n % 4},
        model_versions={"credit_pd": 3, "fraud": 1},
        rules_version="2026-11-01",
        outcome={"decision": "approve", "limit_minor": 500_000, "reason_codes": []},
    )


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "api" / "audit.db"


@pytest.fixture
def five_records(log_path: Path) -> Path:
    with AuditLog.open(log_path) as log:
        for n in range(1, 6):
            append_decision(log, n)
    return log_path


def rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT {COLUMNS} FROM audit_records ORDER BY seq").fetchall()


@pytest.fixture
def tamper(five_records: Path) -> Iterator[sqlite3.Connection]:
    """A connection as someone with the file has it: the append-only triggers dropped."""
    connection = sqlite3.connect(five_records, isolation_level=None)
    connection.execute("DROP TRIGGER audit_records_are_never_updated")
    connection.execute("DROP TRIGGER audit_records_are_never_deleted")
    yield connection
    connection.close()


def rewrite(connection: sqlite3.Connection, records: list[tuple[Any, ...]]) -> None:
    connection.execute("DELETE FROM audit_records")
    marks = ", ".join("?" * len(records[0]))
    connection.executemany(f"INSERT INTO audit_records ({COLUMNS}) VALUES ({marks})", records)


def test_appended_records_verify(log_path: Path) -> None:
    with AuditLog.open(log_path) as log:
        assert log.head == (0, GENESIS_HASH)
        first = log.append(
            partner_id="bank-a",
            purpose="credit_scoring",
            action="read_features",
            applicant_id=applicant(1),
            features={"income_minor": np.int64(800_000), "ratio": np.float32(0.5), "gap": np.nan},
        )
        append_decision(log, 2)
        head = log.head

    assert first.seq == 1
    result = verify(log_path)
    assert result.ok, result.reason
    assert (result.records, result.first_bad_seq, result.head) == (2, None, head)
    stored_first, stored_second = (dict(zip(NAMES, row, strict=True)) for row in rows(log_path))
    assert stored_first["at"] == first.at and stored_first["hash"] == first.hash
    assert stored_first["prev_hash"] == GENESIS_HASH and stored_second["prev_hash"] == first.hash
    features = json.loads(stored_first["features"])
    assert features == {"income_minor": 800_000, "ratio": 0.5, "gap": None}
    assert stored_first["decision_id"] is None and stored_first["outcome"] is None


def test_a_reopened_log_continues_the_chain(five_records: Path) -> None:
    with AuditLog.open(five_records) as log:
        assert log.head[0] == 5
        append_decision(log, 6)

    assert verify(five_records).ok
    assert verify(five_records).records == 6


def test_the_hash_is_reproducible_from_the_record_alone(five_records: Path) -> None:
    """A verifier without zhongtai: SHA-256 of the canonical JSON of the parsed header,
    whose payload_hash is the SHA-256 of the canonical JSON of the parsed payload."""
    for row in rows(five_records):
        record = dict(zip(NAMES, row, strict=True))
        stored_hash = record.pop("hash")
        payload = {name.strip(): record.pop(name.strip()) for name in PAYLOAD.split(",")}
        for name in ("features", "outcome"):
            payload[name] = json.loads(payload[name])
        record["model_versions"] = json.loads(record["model_versions"])
        for part, expected in ((payload, record["payload_hash"]), (record, stored_hash)):
            text = json.dumps(part, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            assert hashlib.sha256(text.encode()).hexdigest() == expected
            assert text == canonical_json(part)


def test_the_log_refuses_updates_and_deletes(five_records: Path) -> None:
    with sqlite3.connect(five_records) as connection:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE audit_records SET outcome = NULL WHERE seq = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):  # a fake redaction
            connection.execute(
                "UPDATE audit_records SET redacted_at = 'now', purpose = 'x' WHERE seq = 2"
            )
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM audit_records WHERE seq = 5")


def test_records_name_applicants_by_pseudonym_only(log_path: Path) -> None:
    with AuditLog.open(log_path) as log, pytest.raises(ValueError, match="pseudonym"):
        log.append(
            partner_id="bank-a",
            purpose="credit_scoring",
            action="decision",
            applicant_id="11010519491231002X",
        )
    assert verify(log_path).records == 0


def test_an_edited_field_is_found(five_records: Path, tamper: sqlite3.Connection) -> None:
    tamper.execute(
        "UPDATE audit_records SET outcome = ? WHERE seq = 3",
        ('{"decision":"decline","limit_minor":0,"reason_codes":[]}',),
    )

    result = verify(five_records)

    assert (result.ok, result.records, result.first_bad_seq) == (False, 5, 3)
    assert "payload is not the payload it was recorded with" in result.reason
    assert result.head is not None and result.head[0] == 2


def test_an_edited_header_field_is_found(five_records: Path, tamper: sqlite3.Connection) -> None:
    tamper.execute("UPDATE audit_records SET purpose = 'marketing' WHERE seq = 3")

    result = verify(five_records)

    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "hash is not the hash of its fields" in result.reason


def test_a_redacted_subject_still_verifies_and_keeps_no_payload(five_records: Path) -> None:
    with AuditLog.open(five_records) as log:
        assert log.redact_subject(applicant(3), "erasure request 2026-11-23") == 1
        assert log.redact_subject(applicant(3), "again") == 0
        append_decision(log, 6)

    result = verify(five_records)
    assert result.ok, result.reason
    assert (result.records, result.redacted) == (6, 1)
    record = dict(zip(NAMES, rows(five_records)[2], strict=True))
    payload = [record[name.strip()] for name in PAYLOAD.split(",")]
    assert payload == [None] * 5
    raw = b"".join(p.read_bytes() for p in five_records.parent.glob("audit.db*"))
    assert applicant(3).encode() not in raw and b"decision-3" not in raw


def test_a_tampered_payload_beside_a_redacted_one_is_found(five_records: Path) -> None:
    with AuditLog.open(five_records) as log:
        log.redact_subject(applicant(2), "erasure")
    with sqlite3.connect(five_records) as connection:
        connection.execute("DROP TRIGGER audit_records_are_never_updated")
        connection.execute("UPDATE audit_records SET features = '{}' WHERE seq = 4")

    assert verify(five_records).first_bad_seq == 4


def test_a_redaction_names_a_pseudonym_and_a_reason(five_records: Path) -> None:
    with AuditLog.open(five_records) as log:
        with pytest.raises(ValueError, match="pseudonym"):
            log.redact_subject("11010519491231002X", "erasure")
        with pytest.raises(ValueError, match="reason"):
            log.redact_subject(applicant(1), " ")


@pytest.mark.parametrize("deleted, first_bad", [(3, 3), (1, 1)])
def test_a_deleted_record_is_found(
    five_records: Path, tamper: sqlite3.Connection, deleted: int, first_bad: int
) -> None:
    tamper.execute("DELETE FROM audit_records WHERE seq = ?", (deleted,))

    result = verify(five_records)

    assert (result.ok, result.first_bad_seq) == (False, first_bad)
    assert f"record {first_bad} is missing" in result.reason


def test_a_deleted_and_renumbered_record_is_found(
    five_records: Path, tamper: sqlite3.Connection
) -> None:
    records = [row for row in rows(five_records) if row[0] != 3]
    rewrite(tamper, [(seq, *row[1:]) for seq, row in enumerate(records, start=1)])

    assert verify(five_records).first_bad_seq == 3


def test_swapped_records_are_found(five_records: Path, tamper: sqlite3.Connection) -> None:
    records = rows(five_records)
    records[1], records[2] = (2, *records[2][1:]), (3, *records[1][1:])
    rewrite(tamper, records)

    result = verify(five_records)

    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_an_inserted_record_is_found(five_records: Path, tamper: sqlite3.Connection) -> None:
    records = rows(five_records)
    forged = [*records[:2], records[1], *records[2:]]  # record 2 again, as record 3
    rewrite(tamper, [(seq, *row[1:]) for seq, row in enumerate(forged, start=1)])

    result = verify(five_records)

    assert (result.ok, result.records, result.first_bad_seq) == (False, 6, 3)


def test_a_forged_hash_is_found(five_records: Path, tamper: sqlite3.Connection) -> None:
    tamper.execute("UPDATE audit_records SET hash = ? WHERE seq = 4", ("f" * 64,))

    assert verify(five_records).first_bad_seq == 4


def test_a_record_rewritten_with_its_hash_recomputed_is_found(
    five_records: Path, tamper: sqlite3.Connection
) -> None:
    record = dict(zip(NAMES, rows(five_records)[2], strict=True))  # seq 3
    record["outcome"] = '{"decision":"decline","limit_minor":0,"reason_codes":[]}'
    record["payload_hash"] = payload_hash(record)
    tamper.execute(
        "UPDATE audit_records SET outcome = ?, payload_hash = ?, hash = ? WHERE seq = 3",
        (record["outcome"], record["payload_hash"], record_hash(record)),
    )

    result = verify(five_records)

    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "rewritten, hash and all" in result.reason


def test_an_anchor_catches_a_rewritten_or_cut_tail(
    five_records: Path, tamper: sqlite3.Connection
) -> None:
    anchor = verify(five_records).head
    assert anchor is not None and anchor[0] == 5
    last = dict(zip(NAMES, rows(five_records)[4], strict=True))
    last["features"] = "{}"
    last["payload_hash"] = payload_hash(last)
    tamper.execute(
        "UPDATE audit_records SET features = ?, payload_hash = ?, hash = ? WHERE seq = 5",
        (last["features"], last["payload_hash"], record_hash(last)),
    )

    assert verify(five_records).ok  # a chain alone cannot see a rewritten tail ...
    assert verify(five_records, anchor=anchor).first_bad_seq == 5  # ... an anchor can

    tamper.execute("DELETE FROM audit_records WHERE seq = 5")
    cut = verify(five_records, anchor=anchor)
    assert (cut.ok, cut.first_bad_seq) == (False, 5)
    assert "was cut" in cut.reason


def test_concurrent_appends_keep_one_valid_chain(log_path: Path) -> None:
    threads_count, per_thread = 8, 100
    with AuditLog.open(log_path) as log:

        def append_many(thread: int) -> None:
            for i in range(per_thread):
                append_decision(log, thread * per_thread + i)

        threads = [threading.Thread(target=append_many, args=(t,)) for t in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    result = verify(log_path)
    assert result.ok, result.reason
    assert result.records == threads_count * per_thread


def test_verifying_while_the_api_appends_never_cries_wolf(log_path: Path) -> None:
    with AuditLog.open(log_path) as log:
        append_decision(log, 0)

        def append_many() -> None:
            for n in range(1, 300):
                append_decision(log, n)

        appender = threading.Thread(target=append_many)
        appender.start()
        results = [verify(log_path) for _ in range(20)]
        appender.join()

    assert all(result.ok for result in results), [r.reason for r in results if not r.ok]
    assert all(result.head and result.head[0] == result.records for result in results)


def test_two_open_logs_on_one_file_chain_onto_each_other(log_path: Path) -> None:
    with AuditLog.open(log_path) as first, AuditLog.open(log_path) as second:
        for n in range(10):
            append_decision(first if n % 2 else second, n)

    result = verify(log_path)
    assert result.ok, result.reason
    assert result.records == 10


def test_the_cli_body_verifies_the_api_s_log_against_an_anchor(settings: Settings) -> None:
    with pytest.raises(FileNotFoundError, match="no audit log"):
        audit_verify(settings)
    with AuditLog.open(audit_log_path(settings)) as log:
        append_decision(log, 1)
        seq, digest = log.head

    assert audit_log_path(settings) == settings.data_dir / "api" / "audit.db"
    assert audit_verify(settings, f"{seq}:{digest}").ok
    assert audit_verify(settings, f"{seq}:{'0' * 64}").first_bad_seq == 1
    with pytest.raises(ValueError, match="is not SEQ:HASH"):
        audit_verify(settings, digest)


def test_append_cost(log_path: Path) -> None:
    """A timing print for the curious, never an assertion (bench/ holds the figures)."""
    count = 2000
    features = {f"feature_{i}": i * 0.5 for i in range(40)}
    with AuditLog.open(log_path) as log:
        started = time.perf_counter()
        for n in range(count):
            log.append(
                partner_id="bank-a",
                purpose="credit_scoring",
                action="decision",
                applicant_id=applicant(n),
                decision_id=f"decision-{n}",
                features=features,
                model_versions={"credit_pd": 3, "fraud": 1},
                outcome={"decision": "approve", "limit_minor": 500_000},
            )
        per_append = (time.perf_counter() - started) / count
    print(f"\naudit append (40 features): {per_append * 1e6:.0f} µs")
