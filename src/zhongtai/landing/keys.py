"""Derived record keys: a deterministic key for a source that delivers none.

A contract's ``record_key`` names the key column and the fields it is derived from
(every delivered field when it names none). The key is the first 32 hex characters
(128 bits) of SHA-256 over the row's values of those fields, each written in one
canonical form, so the same file gives the same keys at every landing, and a record
delivered again in a later file gets the key it had: staging's ``latest_delivery`` keeps
one row per key, as for a delivered key.

The values are hashed as landed, so anyone holding a landed row can recompute its key:
a timestamp as its microseconds since the epoch, a float as Python's shortest repr, a
bool as ``true`` / ``false``, a date as ``YYYY-MM-DD``, and a pseudonymised field as its
pseudonym, never its clear value (an unkeyed hash of a national ID is reversed by
enumeration). Each value is length-prefixed and a null is ``-``, so no two different
rows write the same text.

Rows whose fields are identical would share a key. By default (``duplicates: number``)
they are numbered by occurrence in the file: the first keeps the plain key, the n-th
repeat hashes the same text followed by ``#n``. Every row lands, and a redelivery of the
same rows gets the same keys. ``duplicates: refuse`` quarantines such a file instead,
naming the rows: the choice for a source whose ``derive_from`` fields must identify a
record on their own.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongtai.contracts import Contract, FieldSpec
from zhongtai.landing.parse import MAX_PROBLEMS, ContractViolation, Problem
from zhongtai.privacy.keys import KeyRing
from zhongtai.privacy.pseudonyms import pseudonymise

KEY_HEX_CHARS = 32
NULL_VALUE = "-"
VALUE_SEPARATOR = ","
REPEAT_MARK = "#"


def with_record_key(
    table: pa.Table, contract: Contract, keyring: KeyRing, path: Path
) -> tuple[pa.Table, int]:
    """``table`` (the delivered fields) with the contract's derived key column in its
    place, and how many rows repeated an earlier row's key fields (numbered, not dropped).

    Unchanged, with 0, for a source that delivers its own key. Raises
    ``ContractViolation`` naming the repeated rows when the contract refuses them.
    """
    if contract.record_key is None:
        return table, 0
    texts = canonical_rows(table, contract.key_fields, keyring).dictionary_encode()
    values = texts.dictionary.to_pylist()
    distinct = pa.array([_key(text) for text in values], pa.string())
    indices = texts.indices.to_numpy(zero_copy_only=False)
    keys = distinct.take(texts.indices)
    occurrences = _occurrences(indices)
    repeats = np.flatnonzero(occurrences > 1)
    if len(repeats) and contract.record_key.duplicates == "refuse":
        problems = _repeat_problems(indices, repeats[:MAX_PROBLEMS], contract)
        raise ContractViolation(path, problems, total=len(repeats))
    if len(repeats):
        numbered = keys.to_pylist()
        for row in repeats.tolist():
            numbered[row] = _key(f"{values[indices[row]]}{REPEAT_MARK}{occurrences[row]}")
        keys = pa.array(numbered, pa.string())
    position = contract.field_names.index(contract.record_key.column)
    return table.add_column(position, contract.record_key.column, keys), len(repeats)


def canonical_rows(table: pa.Table, fields: tuple[FieldSpec, ...], keyring: KeyRing) -> pa.Array:
    """Each row's key fields as one text: ``<characters>:<value>`` or ``-`` for a null,
    joined by ``,`` in the order of ``fields``."""
    if not fields:
        return pa.array([""] * table.num_rows, pa.string())
    parts = [_encoded(_canonical(table.column(field.name), field, keyring)) for field in fields]
    return pc.binary_join_element_wise(*parts, VALUE_SEPARATOR)


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_HEX_CHARS]


def _occurrences(indices: np.ndarray) -> np.ndarray:
    """For each row, its occurrence among the rows of the same text, in file order (1, 2, ...)."""
    rows = len(indices)
    order = np.argsort(indices, kind="stable")
    grouped = indices[order]
    starts = np.ones(rows, dtype=bool)
    starts[1:] = grouped[1:] != grouped[:-1]
    positions = np.arange(rows)
    group_start = np.maximum.accumulate(np.where(starts, positions, 0))
    occurrences = np.empty(rows, dtype=np.int64)
    occurrences[order] = positions - group_start + 1
    return occurrences


def _canonical(column: pa.ChunkedArray, field: FieldSpec, keyring: KeyRing) -> pa.Array:
    values = column.combine_chunks()
    if field.is_pseudonymised:
        return pseudonymise(values, kind=field.name, key=keyring.pseudonym_key)
    if field.type == "string":
        return values.cast(pa.string())
    if field.type == "int64":
        return values.cast(pa.string())
    if field.type == "float64":
        return pa.array(
            [None if value is None else repr(float(value)) for value in values.to_pylist()],
            pa.string(),
        )
    if field.type == "bool":
        return pc.if_else(values, "true", "false")
    if field.type == "date":
        return values.cast(pa.string())
    if field.type == "timestamp":
        return values.cast(pa.int64()).cast(pa.string())
    raise ValueError(f"field {field.name!r}: no canonical form for type {field.type!r}")


def _encoded(values: pa.Array) -> pa.Array:
    lengths = pc.utf8_length(values).cast(pa.string())
    prefixed = pc.binary_join_element_wise(lengths, values, ":")
    return pc.fill_null(prefixed, NULL_VALUE)


def _repeat_problems(indices: np.ndarray, repeats: np.ndarray, contract: Contract) -> list[Problem]:
    assert contract.record_key is not None
    fields = (
        f"fields {', '.join(contract.record_key.derive_from)}"
        if contract.record_key.derive_from
        else "values in every delivered field"
    )
    first_row: dict[int, int] = {}
    for row, index in enumerate(indices.tolist(), start=1):
        first_row.setdefault(index, row)
    return [
        Problem(
            "duplicate_record",
            f"the same {fields} as row {first_row[int(indices[row])]}: the derived record key "
            f"{contract.record_key.column!r} would repeat (record_key.duplicates: refuse)",
            row=row + 1,
            field=contract.record_key.column,
        )
        for row in repeats.tolist()
    ]
