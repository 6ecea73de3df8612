"""A mart's fingerprint: row count and a checksum of its rows in a canonical order.

Two builds of a mart are the same when their fingerprints are, whatever engine wrote them
(DuckDB or Spark) and in whatever order: timestamps are compared as naive UTC and floats
to 8 decimal places.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

FLOAT_DECIMALS = 8


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    checksum: str


def fingerprint(table: pa.Table) -> Fingerprint:
    columns = sorted(table.column_names)
    canonical = pa.table({name: _canonical(table[name]) for name in columns})
    ordered = canonical.sort_by([(name, "ascending") for name in columns])
    digest = hashlib.sha256()
    for batch in ordered.to_batches(max_chunksize=65_536):
        for column in batch.columns:
            values = ("" if value is None else str(value) for value in column.to_pylist())
            digest.update("\x1f".join(values).encode())
            digest.update(b"\x1e")
    return Fingerprint(rows=table.num_rows, checksum=digest.hexdigest())


def parquet_fingerprint(path: Path) -> Fingerprint:
    """Fingerprint of a Parquet file, or of a folder of part files (a Spark table)."""
    return fingerprint(pq.read_table(path))


def _canonical(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_timestamp(kind):
        naive = pa.timestamp("us", tz="UTC") if kind.tz else pa.timestamp("us")
        return pc.cast(pc.cast(column, naive), pa.timestamp("us"))
    if pa.types.is_floating(kind):
        return pc.cast(
            pc.round(column, ndigits=FLOAT_DECIMALS, round_mode="half_to_even"), pa.float64()
        )
    if pa.types.is_large_string(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_decimal(kind):
        return pc.cast(column, pa.float64())
    return column
