"""Value checks at the door, after a file parses: sizes, allowed values, personal data and
identity. Each refusal names the row, the field and the rule, never the value.

- every string field has a size limit (``max_length``, by default ``DEFAULT_MAX_LENGTH``)
  and holds text, not control characters;
- a field with ``allowed_values`` takes nothing else, a prohibited category least of all
  (an ``sms_read`` event is refused by value as its column would be by name);
- a string kept in clear holds no personal data it is not declared for (``may_hold``):
  national IDs, mobiles, bank cards, e-mail addresses (``privacy/scan.py``);
- the contract's ``identity``: a national ID must be valid, the declared birth date must be
  the ID's, and the holder of age (``MIN_AGE_YEARS``) when applying.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongtai.contracts import PROHIBITED_FIELD, Contract, FieldSpec, IdentityCheck
from zhongtai.landing.parse import MAX_PROBLEMS, ContractViolation, Problem
from zhongtai.privacy.identity import (
    MIN_AGE_YEARS,
    InvalidNationalId,
    ages_on,
    birth_dates_of,
    read_national_id,
)
from zhongtai.privacy.scan import scan_column

# C0 controls but tab, line feed and carriage return (quoted CSV text may hold them), DEL.
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
KIND_NAMES = {
    "national_id": "a national ID",
    "mobile": "a mobile number",
    "bank_card": "a bank card number",
    "email": "an e-mail address",
}


def check_values(path: Path, table: pa.Table, contract: Contract, today: date) -> None:
    """Raise ``ContractViolation`` naming every value a typed table must not land with."""
    problems: list[Problem] = []
    for field in contract.delivered_fields:
        column = table.column(field.name)
        problems += _too_long(column, field)
        problems += _control_characters(column, field)
        problems += _not_allowed(column, field)
        problems += _personal_data(column, field)
    if contract.identity is not None:
        problems += _identity(table, contract.identity, today)
    if problems:
        raise ContractViolation(path, sorted(problems, key=lambda p: (p.row or 0, p.field or "")))


def with_canonical_ids(table: pa.Table, contract: Contract) -> pa.Table:
    """National IDs with an uppercase check character: ``x`` and ``X`` are one person, so
    they must give one pseudonym."""
    if contract.identity is None:
        return table
    name = contract.identity.national_id
    index = table.column_names.index(name)
    return table.set_column(index, name, pc.ascii_upper(table.column(name)))


def _rows(mask: pa.Array | pa.ChunkedArray) -> list[int]:
    """The first rows (numbered from 1) where ``mask`` is true."""
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks()
    hits = np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))
    return [int(row) + 1 for row in hits[:MAX_PROBLEMS]]


def _too_long(column: pa.ChunkedArray, field: FieldSpec) -> list[Problem]:
    limit = field.length_limit
    if limit is None:
        return []
    return [
        Problem(
            "too_long",
            f"longer than {limit:,} characters (the contract's max_length)",
            row=row,
            field=field.name,
        )
        for row in _rows(pc.greater(pc.utf8_length(column), limit))
    ]


def _control_characters(column: pa.ChunkedArray, field: FieldSpec) -> list[Problem]:
    if field.type != "string":
        return []
    return [
        Problem(
            "control_characters",
            "holds control characters (NUL, escape sequences): text only",
            row=row,
            field=field.name,
        )
        for row in _rows(pc.match_substring_regex(column, CONTROL_CHARACTERS))
    ]


def _not_allowed(column: pa.ChunkedArray, field: FieldSpec) -> Iterator[Problem]:
    if field.allowed_values is None:
        return
    allowed = pa.array(field.allowed_values, pa.string())
    outside = pc.and_(pc.invert(pc.is_in(column, allowed)), pc.is_valid(column))
    for row in _rows(outside):
        if PROHIBITED_FIELD.search(str(column[row - 1].as_py())):
            yield Problem(
                "prohibited_value",
                "names a prohibited category of data (contacts, SMS, call logs, photos, "
                "audio, location history): never collected",
                row=row,
                field=field.name,
            )
        else:
            yield Problem(
                "value_not_allowed",
                f"not one of the contract's allowed_values: {', '.join(field.allowed_values)}",
                row=row,
                field=field.name,
            )


def _personal_data(column: pa.ChunkedArray, field: FieldSpec) -> list[Problem]:
    if not field.scanned_kinds:
        return []
    return [
        Problem(
            "personal_data",
            f"holds {KIND_NAMES[kind]}: the field is not declared for it (may_hold)",
            row=row + 1,
            field=field.name,
        )
        for kind, row in scan_column(column.cast(pa.string()), field.scanned_kinds).items()
    ]


def _identity(table: pa.Table, identity: IdentityCheck, today: date) -> list[Problem]:
    ids = table.column(identity.national_id).combine_chunks()
    births = birth_dates_of(ids, today)
    problems = []
    for row in _rows(pc.and_(pc.is_valid(ids), pc.is_null(births))):
        try:
            read_national_id(ids[row - 1].as_py(), today=today)
            reason = "not a valid national ID"
        except InvalidNationalId as invalid:
            reason = str(invalid)
        problems.append(Problem("invalid_national_id", reason, row=row, field=identity.national_id))
    if identity.birth_date is not None:
        declared = table.column(identity.birth_date).combine_chunks()
        problems += [
            Problem(
                "birth_date_mismatch",
                f"disagrees with the birth date of {identity.national_id!r} (digits 7-14)",
                row=row,
                field=identity.birth_date,
            )
            for row in _rows(pc.not_equal(births, declared))
        ]
    if identity.applied_at is not None:
        on = pc.cast(table.column(identity.applied_at).combine_chunks(), pa.date32())
        problems += [
            Problem(
                "under_age",
                f"under {MIN_AGE_YEARS} at {identity.applied_at} by the birth date of "
                f"{identity.national_id!r}",
                row=row,
                field=identity.national_id,
            )
            for row in _rows(pc.less(ages_on(births, on), MIN_AGE_YEARS))
        ]
    return problems
