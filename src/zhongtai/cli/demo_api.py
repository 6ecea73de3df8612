"""The demo's last step: a partner calls the running API for a few applicants.

The applications are taken from the lender's delivery in the inbox (the only place their
identifiers are in clear, as a partner would hold them) and sent to ``zhongtai serve``
over HTTP; the API pseudonymises them at its edge.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zhongtai.decision.schemas import CONSENTS
from zhongtai.serving import free_port, serving
from zhongtai.settings import Settings

DEMO_PARTNER = "demo_bank"


def delivered_applications(settings: Settings) -> list[dict[str, str]]:
    """The applications of the inbox's deliveries, as delivered (clear identifiers)."""
    rows: list[dict[str, str]] = []
    for path in sorted(settings.inbox_dir.glob("*/applications/*.csv")):
        with path.open(newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def decision_request(row: dict[str, str], consents: Sequence[str] | None = None) -> dict[str, Any]:
    """A ``POST /v1/decisions`` body for one delivered application; ``consents`` default
    to those the application was delivered with."""
    return {
        "applicant": {
            "national_id": row["national_id"],
            "phone": row["phone"],
            "birth_date": row["birth_date"],
            "device_id": row["device_id"],
            "ip_address": row["ip_address"],
        },
        "application": {
            "requested_amount_minor": int(row["requested_amount_minor"]),
            "term_months": int(row["term_months"]),
            "loan_purpose": row["loan_purpose"],
            "channel": row["channel"],
            "employment_type": row["employment_type"],
            "city_code": row["city_code"],
            "monthly_income_minor": int(row["monthly_income_minor"]),
            "monthly_debt_payment_minor": int(row["monthly_debt_payment_minor"]),
        },
        "consents": list(consents)
        if consents is not None
        else [p for p in CONSENTS if row.get(f"has_consented_{p}") == "true"],
    }


def demo_partner_key(settings: Settings) -> str:
    """A fresh key of the demo partner (registered on first use)."""
    from zhongtai.stores.partners import PartnerStore, partners_path

    with PartnerStore.open(partners_path(settings)) as store:
        if any(p.partner_id == DEMO_PARTNER for p in store.partners()):
            return store.issue_key(DEMO_PARTNER)
        _, key = store.create_partner(
            DEMO_PARTNER,
            "Demo Bank",
            scopes=["partner_credit_v1"],
            purposes=list(CONSENTS),
            rate_limit_per_minute=600,
        )
        return key


@contextmanager
def running_api(settings: Settings) -> Iterator[str]:
    """``zhongtai serve`` on a free local port, its log under the logs dir; yields its base
    URL once ready (it fails at once, with the log's tail, if the server exits)."""
    port = free_port()
    env = {
        **os.environ,
        "ZHONGTAI_DATA_DIR": str(settings.data_dir.resolve()),
        "ZHONGTAI_ENV": settings.env,
    }
    command = [str(Path(sys.executable).parent / "zhongtai"), "serve", "--port", str(port)]
    log = settings.logs_dir / "api.log"
    with serving(command, env, port, "/readyz", ready=_ok, log_path=log) as base:
        yield base


def _ok(status: int) -> bool:
    return status == 200


def demo_decisions(settings: Settings, count: int = 5) -> list[dict[str, Any]]:
    """Start the API, decide the latest ``count`` delivered applications; their answers."""
    import httpx

    key = demo_partner_key(settings)
    rows = delivered_applications(settings)
    consented = [r for r in rows if all(r[f"has_consented_{p}"] == "true" for p in CONSENTS)]
    chosen = consented[-count:]
    with running_api(settings) as base, httpx.Client(base_url=base, timeout=30) as client:
        headers = {"Authorization": f"Bearer {key}"}
        answers = []
        for row in chosen:
            response = client.post("/v1/decisions", json=decision_request(row), headers=headers)
            response.raise_for_status()
            answers.append(response.json())
    return answers
