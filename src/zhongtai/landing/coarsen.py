"""Quasi-identifiers coarsened at the door: the finer value never lands.

A contract field with ``treatment: coarsen_to_age`` (a birth date) lands as the age in
whole years at its ``age_at`` timestamp (the UTC day), one with ``coarsen_to_region`` (a
6-digit division code) as its region, the first ``REGION_DIGITS`` digits. The decision
API coarsens a request's division code with the same ``region_codes``, so a model sees
the region as the warehouse holds it.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from zhongtai.contracts import REGION_DIGITS, Contract, FieldSpec
from zhongtai.privacy.identity import ages_on


def region_codes(codes: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The region of each division code: its first ``REGION_DIGITS`` characters."""
    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks()
    return pc.utf8_slice_codeunits(codes, 0, REGION_DIGITS)


def region_code(code: str) -> str:
    """``region_codes`` of one division code (a decision request's)."""
    region = region_codes(pa.array([code], pa.string()))[0].as_py()
    assert isinstance(region, str)
    return region


def coarsened(table: pa.Table, contract: Contract) -> dict[str, pa.Array]:
    """The landed column of each coarsened field of ``contract``, by field name."""
    return {field.name: _coarsen(table, field) for field in contract.fields if field.is_coarsened}


def _coarsen(table: pa.Table, field: FieldSpec) -> pa.Array:
    column = table.column(field.name).combine_chunks()
    if field.treatment == "coarsen_to_region":
        return region_codes(column)
    assert field.age_at is not None  # the contract requires it for coarsen_to_age
    on = pc.cast(table.column(field.age_at).combine_chunks(), pa.date32())
    return ages_on(column, on)
