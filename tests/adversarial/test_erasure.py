"""Erasure that reaches everything (issue 13, row 2).

On a small real world (generated, landed, built by dbt, features materialised, a model
version registered), one applicant is erased with ``zhongtai erase``. Then, as a
regulator holding every key of the platform would:

* every file of the data dir is read (Parquet and DuckDB through their readers, SQLite
  tables, logs, inbox, quarantined copies decrypted with every master key, the vault
  decrypted subject by subject) for the pseudonym, the clear national ID and phone;
* the enumeration attack is run: candidate national IDs from the quasi-identifiers left
  anywhere (area code from city_code, birth date, sequence 000-999, check digit), each
  pseudonymised with the platform's key and looked for among the pseudonyms left; none is
  left (raw keeps the age at application and a 4-digit region);
* the original inbox file is landed again, and so is a new delivery holding the subject;
* every other applicant's rows are counted.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.worlds import build_world
from zhongtai.cli import app
from zhongtai.features.build import build_features
from zhongtai.landing.land import land_source
from zhongtai.landing.rawzone import read_manifests
from zhongtai.ml.erasure import ERASURE_TAG
from zhongtai.privacy.erasure import ErasureLedger, ledger_path
from zhongtai.privacy.files import decrypt_file, encrypt_file, file_key_version
from zhongtai.privacy.identity import check_characters
from zhongtai.privacy.keys import KeyRing, resolve_keyring
from zhongtai.privacy.pseudonyms import pseudonymise
from zhongtai.privacy.vault import Vault
from zhongtai.settings import Settings
from zhongtai.stores.audit import AuditLog, audit_log_path, verify
from zhongtai.stores.decisions import DecisionStore, decisions_path
from zhongtai.stores.partners import PartnerStore, partners_path


@dataclass(frozen=True)
class Subject:
    pseudonym: str
    national_id: str
    phone: str
    application_ids: frozenset[str]
    loan_ids: frozenset[str]

    @property
    def needles(self) -> dict[str, str]:
        return {"pseudonym": self.pseudonym, "national_id": self.national_id, "phone": self.phone}


@dataclass(frozen=True)
class Erased:
    settings: Settings
    keyring: KeyRing
    subject: Subject
    before: dict[str, set[str]]  # source -> record keys landed before the erasure
    delivered: Path  # the original inbox, kept aside
    runs: list[tuple[int, str]]  # exit code and output of the first and second run


def run_zhongtai(settings: Settings, *args: str) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("ZHONGTAI_PSEUDONYM_KEY", "ZHONGTAI_MASTER_KEYS", "ZHONGTAI_AS_OF"):
            patch.delenv(name, raising=False)
        patch.setenv("ZHONGTAI_DATA_DIR", str(settings.data_dir))
        patch.setenv("ZHONGTAI_ENV", "test")
        result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def raw_table(settings: Settings, source: str) -> pa.Table:
    tables = [
        pq.read_table(
            settings.raw_dir
            / source
            / f"ingest_date={m.ingest_date}"
            / f"batch_id={m.batch_id}"
            / m.data_file
        )
        for m in read_manifests(settings.raw_dir, source)
    ]
    return pa.concat_tables(tables)


RECORD_KEYS = {
    "applications": "application_id",
    "bureau_inquiries": "inquiry_id",
    "loans": "loan_id",
    "repayments": "instalment_id",
}


def record_keys(settings: Settings) -> dict[str, set[str]]:
    return {
        source: set(raw_table(settings, source).column(key).to_pylist())
        for source, key in RECORD_KEYS.items()
    }


def pick_subject(settings: Settings, keyring: KeyRing) -> Subject:
    """An applicant with a loan, whose phone no one else gives."""
    applications = raw_table(settings, "applications").to_pylist()
    loans = raw_table(settings, "loans").to_pylist()
    phone_holders: dict[str, set[str]] = {}
    for row in applications:
        phone_holders.setdefault(row["phone_pseudonym"], set()).add(row["applicant_id"])
    borrowers = {loan["application_id"] for loan in loans}
    chosen = next(
        row
        for row in applications
        if row["application_id"] in borrowers and len(phone_holders[row["phone_pseudonym"]]) == 1
    )
    pseudonym = chosen["applicant_id"]
    [inbox_file] = sorted(settings.inbox_dir.glob("*/applications/*.csv"))
    with inbox_file.open(newline="", encoding="utf-8") as handle:
        delivered = list(csv.DictReader(handle))
    ids = pseudonymise(
        pa.array([row["national_id"] for row in delivered]),
        kind="national_id",
        key=keyring.pseudonym_key,
    ).to_pylist()
    clear = next(row for row, id_ in zip(delivered, ids, strict=True) if id_ == pseudonym)
    application_ids = {r["application_id"] for r in applications if r["applicant_id"] == pseudonym}
    return Subject(
        pseudonym=pseudonym,
        national_id=clear["national_id"],
        phone=clear["phone"],
        application_ids=frozenset(application_ids),
        loan_ids=frozenset(
            loan["loan_id"] for loan in loans if loan["application_id"] in application_ids
        ),
    )


def quarantine_a_copy(settings: Settings, keyring: KeyRing) -> None:
    """A quarantined copy of the delivered applications, on master key v1, as landing
    leaves a refused file."""
    [inbox_file] = sorted(settings.inbox_dir.glob("*/applications/*.csv"))
    folder = settings.quarantine_dir / "applications" / "ingest_date=2020-01-01" / "batch_id=q1"
    encrypt_file(inbox_file, folder / f"{inbox_file.name}.enc", keyring)
    (folder / "reason.json").write_text('{"source_file": "x", "reasons": [], "summary": ""}')


def record_decisions(settings: Settings, applicants: list[str]) -> None:
    """What the API keeps of a partner's submissions: consents, decisions, audit records."""
    with PartnerStore.open(partners_path(settings)) as partners:
        partner, _ = partners.create_partner(
            "bank-a",
            "Bank A",
            scopes=["credit_scoring_v1"],
            purposes=["credit_scoring"],
            rate_limit_per_minute=30,
        )
        for applicant in applicants:
            partners.record_submission(partner, applicant, ["credit_scoring"])
    with (
        AuditLog.open(audit_log_path(settings)) as log,
        DecisionStore.open(decisions_path(settings)) as decisions,
    ):
        for n, applicant in enumerate(applicants):
            answer = '{"decision": "approve"}'
            log.append(
                partner_id="bank-a",
                purpose="credit_scoring",
                action="decision",
                applicant_id=applicant,
                decision_id=f"D-{n}",
                features={"debt_to_income": 0.2},
                outcome={"decision": "approve"},
                alongside=decisions.saving(
                    f"D-{n}", "bank-a", applicant, decided_at=settings.now(), answer=answer
                ),
            )


def register_a_model_version(settings: Settings) -> None:
    from zhongtai.ml.track import use_mlflow

    client = use_mlflow(settings)
    client.create_registered_model("credit_pd")
    client.create_model_version("credit_pd", source=str(settings.mlflow_dir / "none"))


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> Erased:
    root = tmp_path_factory.mktemp("erasure")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("ZHONGTAI_PSEUDONYM_KEY", "ZHONGTAI_MASTER_KEYS", "ZHONGTAI_AS_OF"):
            patch.delenv(name, raising=False)
        settings = Settings(data_dir=root / "var", env="test")
        build_world(settings, applicants=400, seed=29, delivery_date=settings.today())
        build_features(settings, progress=lambda _: None)
        keyring = resolve_keyring(settings, announce=lambda _: None)
        quarantine_a_copy(settings, keyring)
        register_a_model_version(settings)
        subject = pick_subject(settings, keyring)
        applicants = set(raw_table(settings, "applications").column("applicant_id").to_pylist())
        others = sorted(applicants - {subject.pseudonym})[:2]
        record_decisions(settings, [subject.pseudonym, *others])
        with (settings.logs_dir / "api.log").open("a") as log:
            log.write(f"INFO decision for applicant {subject.pseudonym}: approve\n")
            log.write("INFO healthz ok\n")
        before = record_keys(settings)
        delivered = root / "delivered"
        shutil.copytree(settings.inbox_dir, delivered)
    runs = [run_zhongtai(settings, "erase", subject.pseudonym, "--reason", "request #7")]
    runs.append(run_zhongtai(settings, "erase", subject.pseudonym, "--reason", "request #7"))
    return Erased(settings, keyring, subject, before, delivered, runs)


# -- (a) nothing left anywhere ---------------------------------------------------------


def texts_in_file(path: Path, keyring: KeyRing) -> Iterator[str]:
    """What a reader with every key gets out of ``path``, as text pieces."""
    data = path.read_bytes()
    yield data.decode("latin-1")
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        yield from (str(value) for column in table.columns for value in column.to_pylist())
    elif path.suffix == ".enc":
        yield decrypt_file(path, keyring).decode("utf-8", errors="replace")
    elif path.suffix == ".duckdb":
        yield from duckdb_values(path)
    elif data.startswith(b"SQLite format 3\x00"):
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = connection.execute("select name from sqlite_master where type = 'table'")
            for (table,) in tables.fetchall():
                for row in connection.execute(f'select * from "{table}"'):
                    yield from (
                        v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row
                    )
        finally:
            connection.close()


def duckdb_values(path: Path, *, tables_only: bool = False) -> Iterator[str]:
    """Every value of every table (and view: they read the raw zone and the marts)."""
    connection = duckdb.connect(str(path), read_only=True)
    kinds = "('BASE TABLE')" if tables_only else "('BASE TABLE', 'VIEW')"
    try:
        relations = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_catalog = current_database() and table_type in {kinds}"
        ).fetchall()
        for schema, table in relations:
            for row in connection.execute(f'select * from "{schema}"."{table}"').fetchall():
                yield from (str(value) for value in row)
    finally:
        connection.close()


def vault_values(settings: Settings, keyring: KeyRing) -> Iterator[str]:
    connection = sqlite3.connect(settings.vault_path)
    subjects = [s for (s,) in connection.execute("select subject_id from subject_keys")]
    connection.close()
    with Vault.open(settings.vault_path, keyring) as vault:
        for subject_id in subjects:
            yield from vault.get(subject_id).values()


def hits(erased: Erased, needles: dict[str, str]) -> list[str]:
    found = []
    for path in sorted(erased.settings.data_dir.rglob("*")):
        if not path.is_file():
            continue
        for piece in texts_in_file(path, erased.keyring):
            found += [f"{what} in {path}" for what, n in needles.items() if n in piece]
    for value in vault_values(erased.settings, erased.keyring):
        found += [f"{what} in the vault" for what, n in needles.items() if n in value]
    return sorted(set(found))


def test_the_erasure_ran_room_by_room_and_a_second_run_erases_nothing(
    erased: Erased, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.rerun")
    (first_code, first), (second_code, second) = erased.runs
    assert first_code == 0, first
    for room in ("vault", "inbox", "quarantine", "raw zone", "warehouse", "marts",
                 "feature tables", "online store", "logs and reports"):  # fmt: skip
        assert f"{room}:" in first
    assert "raw zone: 0 erased" not in first
    assert "logs and reports: 1 erased" in first  # the API log's line about them
    assert second_code == 0, second
    assert "vault 0, inbox 0, quarantine 0, raw zone 0, warehouse 0" in " ".join(second.split())
    record_property("outcome", "erased")


def test_no_file_holds_the_subject_for_someone_with_every_key(
    erased: Erased, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.clear_value_scan")
    assert hits(erased, erased.subject.needles) == []
    record_property("outcome", "erased")


def test_the_enumeration_attack_links_nothing(
    erased: Erased, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.enumeration_attack")
    key = erased.keyring.pseudonym_key
    subject = erased.subject
    # The attack works: from the subject's county and birth date it finds their ID.
    own = candidates([(subject.national_id[:6], subject.national_id[6:14])])
    assert subject.pseudonym in set(pseudonymise(own, kind="national_id", key=key).to_pylist())

    # What it needs travels nowhere past the door: no birth date, no county code.
    left = quasi_identifiers_left(erased.settings)
    found = pseudonyms_left(erased.settings)
    ids = candidates(left)
    linked = set(pseudonymise(ids, kind="national_id", key=key).to_pylist()) & found
    record_property("candidates", len(ids))
    record_property("applicants_linked", len(linked))
    assert left == [] and linked == set()
    # What is kept instead (age at application, 4-digit region) leaves each row 100
    # counties x 365 birth dates x 1,000 sequences: 36.5M keyed hashes, not 1,000.
    regions, ages = coarse_values_left(erased.settings)
    assert regions and ages and all(len(region) == 4 for region in regions)
    record_property("candidates_per_landed_row", 100 * 365 * 1000)
    record_property("outcome", "erased")


def candidates(pairs: list[tuple[str, str]]) -> pa.Array:
    """Every national ID of a county code and birth date (YYYYMMDD): 1,000 per pair."""
    bodies = [f"{area}{birth}{sequence:03d}" for area, birth in pairs for sequence in range(1000)]
    if not bodies:
        return pa.array([], pa.string())
    digits = np.frombuffer("".join(bodies).encode(), dtype=np.uint8).reshape(-1, 17)
    checks = check_characters(digits).tobytes().decode()
    return pa.array([body + check for body, check in zip(bodies, checks, strict=True)])


def quasi_identifiers_left(settings: Settings) -> list[tuple[str, str]]:
    """(county code, birth date) pairs in any Parquet file of the data dir."""
    pairs: set[tuple[str, str]] = set()
    for path in settings.data_dir.rglob("*.parquet"):
        names = pq.read_schema(path).names
        if "city_code" in names and "birth_date" in names:
            table = pq.read_table(path, columns=["city_code", "birth_date"])
            pairs.update(
                (str(city), str(born).replace("-", ""))
                for city, born in zip(
                    table.column("city_code").to_pylist(),
                    table.column("birth_date").to_pylist(),
                    strict=True,
                )
                if city and born
            )
    return sorted(pairs)


def coarse_values_left(settings: Settings) -> tuple[set[str], set[int]]:
    """The regions and ages the raw applications keep."""
    regions: set[str] = set()
    ages: set[int] = set()
    for path in (settings.raw_dir / "applications").rglob("*.parquet"):
        table = pq.read_table(path, columns=["city_code", "age_years"])
        regions.update(table.column("city_code").to_pylist())
        ages.update(table.column("age_years").to_pylist())
    return regions, ages


def pseudonyms_left(settings: Settings) -> set[str]:
    found: set[str] = set()
    for path in settings.data_dir.rglob("*.parquet"):
        table = pq.read_table(path)
        for name in table.column_names:
            if pa.types.is_string(table.schema.field(name).type):
                found.update(v for v in table.column(name).to_pylist() if v and len(v) == 64)
    return found


def test_the_audit_chain_still_verifies_with_the_subjects_payloads_redacted(
    erased: Erased, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.audit_redaction")
    (_, first), _ = erased.runs
    assert "decisions: 1 erased" in first
    assert "submissions: 1 erased" in first
    assert "audit payloads: 1 erased" in first

    checked = verify(audit_log_path(erased.settings))

    assert checked.ok, checked.reason
    assert (checked.records, checked.redacted) == (3, 1)
    with DecisionStore.open(decisions_path(erased.settings)) as decisions:
        assert decisions.latest("bank-a", erased.subject.pseudonym) is None
    record_property("outcome", "erased")


# -- (c) landing again brings nobody back ----------------------------------------------


def test_landing_the_original_file_again_does_not_bring_the_subject_back(
    erased: Erased, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.reland_original")
    settings = erased.settings
    [original] = sorted(erased.delivered.glob("*/applications/*.csv"))
    ingest_date = date.fromisoformat(original.parent.parent.name)
    target = settings.inbox_dir / original.relative_to(erased.delivered)
    rewritten = target.read_bytes()
    shutil.copyfile(original, target)
    try:
        outcome = land_source("applications", ingest_date, settings, keyring=erased.keyring)
    finally:
        target.write_bytes(rewritten)

    assert outcome.landed == [] and len(outcome.already_landed) == 1
    assert (
        erased.subject.pseudonym
        not in raw_table(settings, "applications").column("applicant_id").to_pylist()
    )
    record_property("outcome", "erased")


def test_a_new_delivery_holding_the_subject_lands_without_them(
    erased: Erased, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.reland_new_delivery")
    settings = erased.settings
    [original] = sorted(erased.delivered.glob("*/applications/*.csv"))
    lines = original.read_text(encoding="utf-8").splitlines(keepends=True)
    theirs = [line for line in lines[1:] if erased.subject.national_id in line]
    others = [line for line in lines[1:] if erased.subject.national_id not in line][:3]
    later = settings.today().replace(year=settings.today().year + 1)
    folder = settings.inbox_dir / later.isoformat() / "applications"
    folder.mkdir(parents=True)
    (folder / "resent.csv").write_text(lines[0] + "".join(theirs + others), encoding="utf-8")

    outcome = land_source("applications", later, settings, keyring=erased.keyring)

    assert outcome.erased_rows == len(theirs) > 0
    assert outcome.rows_landed == len(others)
    assert (
        erased.subject.pseudonym
        not in raw_table(settings, "applications").column("applicant_id").to_pylist()
    )
    with Vault.open(settings.vault_path, erased.keyring) as vault:
        assert vault.erased([erased.subject.pseudonym]) == {erased.subject.pseudonym}
    shutil.rmtree(folder.parent)
    record_property("outcome", "erased")


# -- (d) nobody else lost a row ---------------------------------------------------------


def test_every_other_applicants_rows_are_still_there(
    erased: Erased, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.others_kept")
    subject = erased.subject
    before, after = erased.before, record_keys(erased.settings)
    instalments = {
        row["instalment_id"]
        for row in raw_table(erased.settings, "repayments").to_pylist()
        if row["loan_id"] in subject.loan_ids
    }
    assert instalments == set()  # all gone with the loans
    assert after["applications"] == before["applications"] - subject.application_ids
    assert after["loans"] == before["loans"] - subject.loan_ids
    assert len(after["repayments"]) < len(before["repayments"])
    assert after["repayments"] <= before["repayments"]
    applications = raw_table(erased.settings, "applications")
    marts = pq.read_table(erased.settings.marts_dir / "application_features.parquet")
    assert set(marts.column("application_id").to_pylist()) == set(
        applications.column("application_id").to_pylist()
    )
    record_property("outcome", "erased")


def test_models_trained_before_the_erasure_are_tagged(
    erased: Erased, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.models_trained_before")
    from zhongtai.ml.track import use_mlflow

    [version] = use_mlflow(erased.settings).search_model_versions("name = 'credit_pd'")
    with ErasureLedger.open(ledger_path(erased.settings.vault_path)) as ledger:
        [run] = ledger.runs()
    assert version.tags[ERASURE_TAG] == run.erasure_id
    assert run.completed_at is not None and run.keys is None
    assert run.counts["raw zone"] > 0
    record_property("outcome", "erased")


# -- a run that stops midway -----------------------------------------------------------


def test_a_run_stopped_by_a_locked_warehouse_completes_when_run_again(
    erased: Erased, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.crash_midway")
    settings = Settings(data_dir=tmp_path / "var", env="test")
    shutil.copytree(erased.settings.data_dir, settings.data_dir)
    # Another applicant, erased while another process holds the warehouse.
    other = next(
        applicant
        for applicant in raw_table(settings, "applications").column("applicant_id").to_pylist()
        if applicant != erased.subject.pseudonym
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_DUCKDB, str(settings.warehouse_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"holding"
        code, output = run_zhongtai(settings, "erase", other, "--reason", "request #8")
    finally:
        holder.communicate(b"\n", timeout=60)
    assert code != 0
    assert other not in raw_table(settings, "applications").column("applicant_id").to_pylist()
    with ErasureLedger.open(ledger_path(settings.vault_path)) as ledger:
        stopped = [run for run in ledger.runs() if run.completed_at is None]
    assert len(stopped) == 1 and stopped[0].keys and other in stopped[0].keys

    code, output = run_zhongtai(settings, "erase", other, "--reason", "request #8")

    assert code == 0, output
    assert "warehouse: 0 erased" not in output
    # A copied warehouse's views read the original world's files: its tables are checked.
    assert [p for p in duckdb_values(settings.warehouse_path, tables_only=True) if other in p] == []
    with ErasureLedger.open(ledger_path(settings.vault_path)) as ledger:
        assert all(run.completed_at and run.keys is None for run in ledger.runs())
    record_property("outcome", "erased")


HOLD_DUCKDB = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
connection.close()
"""


def test_after_keys_rotate_no_quarantined_copy_needs_the_old_master_key(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    record_property("kind", "erasure.quarantine_key_rotation")
    settings = Settings(data_dir=tmp_path / "var", env="test")
    delivered = tmp_path / "applications.csv"
    delivered.write_text("national_id,phone\n11010519491231002X,13800138000\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ZHONGTAI_MASTER_KEYS", raising=False)
        patch.delenv("ZHONGTAI_PSEUDONYM_KEY", raising=False)
        keyring = resolve_keyring(settings, announce=lambda _: None)
    folder = settings.quarantine_dir / "applications" / "ingest_date=2020-01-01" / "batch_id=q1"
    copy = folder / "applications.csv.enc"
    encrypt_file(delivered, copy, keyring)
    (folder / "reason.json").write_text('{"source_file": "x", "reasons": [], "summary": ""}')

    code, output = run_zhongtai(settings, "keys", "rotate")

    assert code == 0, output
    assert "quarantined copies moved to master key v2: 1" in " ".join(output.split())
    rotated = resolve_keyring(settings, announce=lambda _: None)
    assert file_key_version(copy) == 2
    assert decrypt_file(copy, rotated.retire(1)) == delivered.read_bytes()
    record_property("outcome", "rewrapped")
