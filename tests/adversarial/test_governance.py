"""Governed serving (issue 13, row 6): the API serves only a version whose promotion
record the gate signed with the platform key, over the files and the code loaded.

Each case tampers with the registry as someone with write access to MLflow or its files
could (an alias set by hand, a tag rewritten in the SQLite registry, a model file or a
line of model code changed, a record forged or copied), and is refused with its reason;
with no verified champion left the API answers 503 and logs why.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from fastapi.testclient import TestClient

from tests.api.test_app import request_for
from tests.api.test_faults import _partner_key
from tests.ml.gates import strict, with_gates
from tests.worlds import copy_world
from zhongtai.api.main import create_app
from zhongtai.api.platform import open_platform
from zhongtai.cli.demo_api import delivered_applications
from zhongtai.decision.champions import FAMILIES, ChampionSet, ModelsUnavailable
from zhongtai.ml.register import (
    CHAMPION,
    DIGEST_TAG,
    RECORD_TAG,
    ModelNotRegistered,
    code_digest,
    files_digest,
    load_promoted,
)
from zhongtai.ml.retrain import retrain
from zhongtai.ml.signing import PromotionRecord, RecordRefused, sign_record
from zhongtai.ml.track import use_mlflow
from zhongtai.privacy.keys import promotion_signing_key, resolve_keyring
from zhongtai.settings import Settings

FAMILY = "credit_pd"
PROMOTED, REFUSED = "1", "2"  # the gate promoted version 1 and refused version 2


@pytest.fixture(scope="module")
def governed(feature_world: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """credit_pd and fraud promoted by their gate (version 1, signed), then a credit_pd
    version 2 that its gate refused."""
    settings = copy_world(feature_world, tmp_path_factory.mktemp("governed"))
    for family in FAMILIES:
        assert retrain(with_gates(family), settings, progress=lambda _: None).promoted
    refused = retrain(strict(FAMILY), settings, progress=lambda _: None)
    assert not refused.promoted and refused.version == REFUSED
    return settings


def _key(settings: Settings) -> bytes:
    return promotion_signing_key(resolve_keyring(settings, announce=lambda _: None))


def _model_dir(settings: Settings, version: str) -> Path:
    """Where the registry keeps a version's logged model (the files the API downloads)."""
    client = use_mlflow(settings)
    uri = client.get_model_version_download_uri(FAMILY, version)
    if uri.startswith("models:/"):
        uri = client.get_logged_model(uri.removeprefix("models:/")).artifact_location
    return Path(unquote(urlparse(uri).path))


def _record(settings: Settings, version: str) -> str:
    return str(use_mlflow(settings).get_model_version(FAMILY, version).tags.get(RECORD_TAG, ""))


@contextmanager
def _champion_is(settings: Settings, version: str, record: str | None = None) -> Iterator[None]:
    """The champion alias set by hand on ``version`` (with ``record`` as its record tag)."""
    client = use_mlflow(settings)
    if record is not None:
        client.set_model_version_tag(FAMILY, version, RECORD_TAG, record)
    client.set_registered_model_alias(FAMILY, CHAMPION, version)
    try:
        yield
    finally:
        client.set_registered_model_alias(FAMILY, CHAMPION, PROMOTED)
        if record is not None:
            client.delete_model_version_tag(FAMILY, version, RECORD_TAG)


@contextmanager
def _edited(path: Path, line: bytes) -> Iterator[None]:
    original = path.read_bytes()
    path.write_bytes(original + line)
    try:
        yield
    finally:
        path.write_bytes(original)


def hand_set_alias(settings: Settings) -> Iterator[None]:
    with _champion_is(settings, REFUSED):
        yield


def record_of_another_version(settings: Settings) -> Iterator[None]:
    with _champion_is(settings, REFUSED, _record(settings, PROMOTED)):
        yield


def record_edited_to_name_this_version(settings: Settings) -> Iterator[None]:
    document = json.loads(_record(settings, PROMOTED))
    document["record"]["version"] = REFUSED
    with _champion_is(settings, REFUSED, json.dumps(document)):
        yield


def record_signed_with_another_key(settings: Settings) -> Iterator[None]:
    model_dir = _model_dir(settings, REFUSED)
    record = PromotionRecord(
        model=FAMILY,
        version=REFUSED,
        run_id="",
        promote=True,
        env=settings.env,
        burden="harm",
        reasons=(),
        report=(),
        files_digest=files_digest(model_dir / "artifacts" / "model"),
        code_digest=code_digest(model_dir),
        signed_at=settings.now().isoformat(),
    )
    with _champion_is(settings, REFUSED, sign_record(record, os.urandom(32))):
        yield


def unsigned_record(settings: Settings) -> Iterator[None]:
    document = json.loads(_record(settings, PROMOTED))
    document["record"]["version"] = REFUSED
    del document["signature"]
    with _champion_is(settings, REFUSED, json.dumps(document)):
        yield


def model_file_edited_and_digest_tag_rewritten(settings: Settings) -> Iterator[None]:
    exported = _model_dir(settings, PROMOTED) / "artifacts" / "model"
    target = next(path for path in sorted(exported.rglob("*.json")))
    with _edited(target, b"\n"):
        database = settings.mlflow_dir / "mlflow.db"
        with sqlite3.connect(database) as connection:  # the one UPDATE of the review
            original = connection.execute(
                "select value from model_version_tags where name = ? and version = ? and key = ?",
                (FAMILY, int(PROMOTED), DIGEST_TAG),
            ).fetchone()[0]
            connection.execute(
                "update model_version_tags set value = ? where name = ? and version = ? "
                "and key = ?",
                (files_digest(exported), FAMILY, int(PROMOTED), DIGEST_TAG),
            )
        try:
            yield
        finally:
            with sqlite3.connect(database) as connection:
                connection.execute(
                    "update model_version_tags set value = ? where name = ? and version = ? "
                    "and key = ?",
                    (original, FAMILY, int(PROMOTED), DIGEST_TAG),
                )


def line_added_to_mlflow_model_py(settings: Settings) -> Iterator[None]:
    shipped = next(_model_dir(settings, PROMOTED).rglob("mlflow_model.py"))
    with _edited(shipped, b"\nprint('scored by someone else')\n"):
        yield


def line_added_to_shipped_scoring_module(settings: Settings) -> Iterator[None]:
    shipped = _model_dir(settings, PROMOTED) / "code" / "zhongtai" / "ml" / "scoring.py"
    with _edited(shipped, b"\nTHRESHOLD_OVERRIDE = 0.0\n"):
        yield


Tampering = Callable[[Settings], Iterator[None]]
CASES: list[tuple[Tampering, str, str, str]] = [
    # (tampering, the version the alias names, the refusal kind, words of the reason)
    (hand_set_alias, REFUSED, "missing", "no promotion record signed by the gate"),
    (record_of_another_version, REFUSED, "other_version", "record of credit_pd/1"),
    (record_edited_to_name_this_version, REFUSED, "forged", "signature does not verify"),
    (record_signed_with_another_key, REFUSED, "forged", "signature does not verify"),
    (unsigned_record, REFUSED, "unreadable", "not a zhongtai.promotion-record"),
    (model_file_edited_and_digest_tag_rewritten, PROMOTED, "files", "model files are not"),
    (line_added_to_mlflow_model_py, PROMOTED, "code", "model code is not"),
    (line_added_to_shipped_scoring_module, PROMOTED, "code", "model code is not"),
]


def test_the_untampered_champions_verify_and_serve(governed: Settings) -> None:
    champions = ChampionSet(use_mlflow(governed), key=_key(governed), log=lambda _: None)
    assert champions.refresh() is True
    assert champions.current().versions == {"credit_pd": PROMOTED, "fraud": "1"}


@pytest.mark.parametrize(
    ("tamper", "version", "kind", "reason"), CASES, ids=[case[0].__name__ for case in CASES]
)
def test_a_tampered_champion_is_refused_with_its_reason(
    governed: Settings,
    tamper: Tampering,
    version: str,
    kind: str,
    reason: str,
    record_property: Callable[[str, object], None],
) -> None:
    record_property("kind", f"governance.{tamper.__name__}")
    client = use_mlflow(governed)
    logged: list[str] = []
    with contextmanager(tamper)(governed):
        with pytest.raises(ModelNotRegistered, match=reason) as refused:
            load_promoted(client, FAMILY, version, _key(governed))
        assert isinstance(refused.value.__cause__, RecordRefused)
        assert refused.value.__cause__.kind == kind
        champions = ChampionSet(client, key=_key(governed), log=logged.append)
        with pytest.raises(ModelsUnavailable, match=reason):
            champions.refresh()
    record_property("outcome", "refused")
    assert any(reason in line for line in logged), logged


def test_a_hand_set_alias_leaves_the_verified_champion_serving(governed: Settings) -> None:
    logged: list[str] = []
    champions = ChampionSet(use_mlflow(governed), key=_key(governed), log=logged.append)
    champions.refresh()
    with _champion_is(governed, REFUSED):
        assert champions.refresh() is False
        assert champions.current().versions["credit_pd"] == PROMOTED
    assert any("credit_pd/2 has no promotion record" in line for line in logged), logged


def test_the_api_answers_503_and_logs_why_when_no_verified_champion_remains(
    governed: Settings,
    feature_world: Settings,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    record_property("kind", "governance.api_hand_set_alias")
    auth = _partner_key(governed)
    body = request_for(delivered_applications(feature_world)[0])
    with (
        _champion_is(governed, REFUSED),
        TestClient(create_app(lambda: open_platform(governed))) as client,
    ):
        response = client.post("/v1/decisions", json=body, headers=auth)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    record_property("outcome", "refused")
    assert "credit_pd/2 has no promotion record signed by the gate" in capsys.readouterr().out
