"""Fuzzing the OpenAPI schema (schemathesis): no input, valid or not, gets a server error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from zhongtai.api.main import create_app
from zhongtai.api.platform import open_platform
from zhongtai.settings import Settings
from zhongtai.stores.partners import PartnerStore, partners_path

FUZZER = "fuzzer"
EXAMPLES = 40  # per operation and mode


@pytest.fixture(scope="module")
def fuzz_key(served_world: Settings) -> str:
    with PartnerStore.open(partners_path(served_world)) as store:
        _, key = store.create_partner(
            FUZZER,
            "Fuzzing Bank",
            scopes=["partner_credit_v1", "partner_fraud_v1"],
            purposes=["credit_scoring", "fraud_prevention"],
            rate_limit_per_minute=1_000_000,
        )
    return key


@pytest.fixture(scope="module")
def api_schema(served_world: Settings) -> Iterator[schemathesis.schemas.BaseSchema]:
    app = create_app(lambda: open_platform(served_world))
    opened = app.state.platform = open_platform(served_world)  # what the lifespan would open
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema
    opened.close()  # a lifespan the calls ran closes its own


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error(
    api_schema: schemathesis.schemas.BaseSchema, fuzz_key: str, mode: GenerationMode
) -> None:
    """Valid requests (positive) and requests that break the schema (negative), to every
    operation, authenticated as a partner with every scope."""
    auth = {"Authorization": f"Bearer {fuzz_key}"}
    for found in api_schema.get_all_operations():
        operation = found.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=auth)
            assert response.status_code < 500, (
                f"{case.operation.label}: {response.status_code} {response.text[:300]}"
            )

        try:
            no_server_error()
        except Unsatisfiable:  # nothing to break (no parameters, no body): nothing sent
            assert mode is GenerationMode.NEGATIVE, operation.label
