"""Promotion records: what the gate promoted, signed with a platform key.

When the promotion gate promotes a version, it writes a record: the model and version,
the gate's decision and reasons, the digest of the model files and of the model code
(everything the logged model ships besides those files: ``mlflow_model.py``, the
zhongtai modules of ``code_paths``, its requirements and ``MLmodel``), and the time,
signed with HMAC-SHA256 under the platform's signing key
(:func:`zhongtai.privacy.keys.promotion_signing_key`).

The record travels with the version (a tag of the registry), but nothing of it is taken
on the registry's word: :func:`verify_record` checks the signature, that the record names
the version at hand and that the digests match the files and code actually loaded. A
``champion`` alias set by hand, a digest tag rewritten, a model file or a line of model
code changed, a record copied from another version: each is refused with its reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

SCHEME = "zhongtai.promotion-record/v1"

Refusal = Literal[
    "missing", "unreadable", "forged", "other_version", "refused_by_gate", "files", "code"
]


class RecordRefused(ValueError):
    """A version whose promotion record does not verify; ``kind`` says which check failed."""

    def __init__(self, kind: Refusal, message: str) -> None:
        super().__init__(message)
        self.kind: Refusal = kind


@dataclass(frozen=True)
class PromotionRecord:
    """What the gate decided about one version, and over which files and code."""

    model: str
    version: str
    run_id: str
    promote: bool
    env: str
    burden: str
    reasons: tuple[str, ...]  # why it was refused (empty when promoted)
    report: tuple[str, ...]  # every check's verdict, one line each
    files_digest: str
    code_digest: str
    signed_at: str  # ISO 8601, UTC, from the platform clock

    @property
    def label(self) -> str:
        return f"{self.model}/{self.version}"


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _signature(record: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, SCHEME.encode() + b"\0" + _canonical(record), hashlib.sha256).hexdigest()


def sign_record(record: PromotionRecord, key: bytes) -> str:
    """The record and its signature, as the JSON text stored with the version."""
    fields = asdict(record)
    return json.dumps(
        {"scheme": SCHEME, "record": fields, "signature": _signature(fields, key)}, indent=1
    )


def verify_record(
    text: str | None,
    key: bytes,
    *,
    model: str,
    version: str,
    files_digest: str,
    code_digest: str,
) -> PromotionRecord:
    """The record of ``model/version`` if it verifies against the files and code loaded.

    Raises RecordRefused naming the version and the check that failed (never a digest or
    a value of the record that an attacker could have chosen to mislead)."""
    label = f"{model}/{version}"
    if not text:
        raise RecordRefused(
            "missing",
            f"{label} has no promotion record signed by the gate (its alias was set by "
            "hand, or it was promoted before signed records): run `zhongtai models "
            f"promote {model} {version}` to re-run its gate",
        )
    try:
        document = json.loads(text)
        fields = document["record"]
        signature = str(document["signature"])
        if document.get("scheme") != SCHEME or not isinstance(fields, dict):
            raise ValueError(document.get("scheme"))
        record = PromotionRecord(
            **{
                **fields,
                "reasons": tuple(fields["reasons"]),
                "report": tuple(fields["report"]),
            }
        )
    except (ValueError, KeyError, TypeError):
        raise RecordRefused(
            "unreadable", f"{label}: its promotion record is not a {SCHEME} record"
        ) from None
    if not hmac.compare_digest(signature, _signature(asdict(record), key)):
        raise RecordRefused(
            "forged",
            f"{label}: its promotion record's signature does not verify with the platform "
            "key (forged, altered, or signed with another platform's keys)",
        )
    if (record.model, record.version) != (model, version):
        raise RecordRefused(
            "other_version",
            f"{label}: its promotion record is the gate's record of {record.label}, not "
            "of this version",
        )
    if not record.promote:
        raise RecordRefused("refused_by_gate", f"{label}: the promotion gate refused it")
    if not hmac.compare_digest(record.files_digest, files_digest):
        raise RecordRefused(
            "files", f"{label}: its model files are not the files the gate promoted"
        )
    if not hmac.compare_digest(record.code_digest, code_digest):
        raise RecordRefused("code", f"{label}: its model code is not the code the gate promoted")
    return record
