"""``zhongtai demo`` (cli/demo.py) and the partner's side of its last step (cli/demo_api.py).

The demo itself runs every DAG (tests/e2e); here: its options, and the requests a
partner builds from the lender's delivery.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.ran import Ran
from zhongtai.cli.demo_api import CONSENTS, decision_request, delivered_applications
from zhongtai.settings import Settings


def test_demo_help_names_its_default_world(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("demo", "--help")
    assert ran.exit_code == 0, ran.output
    assert "--applicants" in ran.text and "30000" in ran.text and "--seed" in ran.text


def test_demo_refuses_no_applicants_before_it_starts(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("demo", "--applicants", "0")
    assert ran.exit_code == 2
    assert "'--applicants'" in ran.text
    assert not settings.inbox_dir.exists() and not settings.raw_dir.exists()


def test_a_partner_asks_with_the_delivered_application_and_its_consents(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0
    rows = delivered_applications(settings)
    assert len(rows) >= 20 and all(row["national_id"] for row in rows)

    row = rows[0]
    body = decision_request(row)
    assert body["applicant"]["national_id"] == row["national_id"]
    assert body["application"]["requested_amount_minor"] == int(row["requested_amount_minor"])
    consented = [p for p in CONSENTS if row[f"has_consented_{p}"] == "true"]
    assert body["consents"] == consented
    assert decision_request(row, consents=["fraud_prevention"])["consents"] == ["fraud_prevention"]
