"""Vectorised text encoding of generated columns.

The generator writes tens of millions of fields; formatting them one Python object at a time
would dominate its run time. These helpers build fixed-width ASCII text (digits, ISO 8601
timestamps, hex ids) as numpy byte matrices and hand them to Arrow in one copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECONDS_PER_DAY = 86_400

_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)

Part = np.ndarray | str


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """ASCII digits of non-negative integers, zero-padded to `width`, as an (n, width) matrix."""
    remaining = np.asarray(values, dtype=np.int64).copy()
    if remaining.size and (remaining.min() < 0 or remaining.max() >= 10**width):
        raise ValueError(f"values do not fit in {width} digits")
    out = np.empty((remaining.size, width), dtype=np.uint8)
    col = width
    while col >= 2:
        remaining, pair = np.divmod(remaining, 100)
        out[:, col - 2 : col] = _PAIRS[pair]
        col -= 2
    if col == 1:
        out[:, 0] = 48 + remaining
    return out


def hex_matrix(words: np.ndarray) -> np.ndarray:
    """Lower-case hex of unsigned 64-bit words, 16 characters each, as an (n, 16) matrix."""
    as_bytes = np.asarray(words, dtype=">u8").view(np.uint8).reshape(-1, 8)
    out = np.empty((as_bytes.shape[0], 16), dtype=np.uint8)
    out[:, 0::2] = _HEX[as_bytes >> 4]
    out[:, 1::2] = _HEX[as_bytes & 0x0F]
    return out


def fixed_width(parts: Sequence[Part], n: int) -> pa.Array:
    """Concatenate byte matrices and literal strings column-wise into one Arrow string array."""
    blocks = [_literal(p) if isinstance(p, str) else p for p in parts]
    width = sum(b.shape[1] for b in blocks)
    if width == 0 or n == 0:
        return pa.array([""] * n, type=pa.string())
    out = np.empty((n, width), dtype=np.uint8)
    col = 0
    for block in blocks:
        out[:, col : col + block.shape[1]] = block
        col += block.shape[1]
    return pa.array(out.view(f"S{width}").ravel(), type=pa.binary(width)).cast(pa.string())


def _literal(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8)[None, :]


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of days since 1970-01-01 (proleptic Gregorian, H. Hinnant's algorithm)."""
    z = np.asarray(days, dtype=np.int64) + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def yyyymmdd(days: np.ndarray) -> np.ndarray:
    """Days since the epoch as integers like 19900517 (the birth-date block of a national ID)."""
    year, month, day = civil_from_days(days)
    return year * 10_000 + month * 100 + day


def iso_utc(seconds: np.ndarray) -> pa.Array:
    """Seconds since the epoch as ISO 8601 UTC text with a trailing Z: 2025-03-01T10:22:13Z."""
    seconds = np.asarray(seconds, dtype=np.int64)
    days, second_of_day = np.divmod(seconds, SECONDS_PER_DAY)
    year, month, day = civil_from_days(days)
    hour, rest = np.divmod(second_of_day, 3600)
    minute, second = np.divmod(rest, 60)
    n = seconds.size
    return fixed_width(
        [
            _PAIRS[year // 100],
            _PAIRS[year % 100],
            "-",
            _PAIRS[month],
            "-",
            _PAIRS[day],
            "T",
            _PAIRS[hour],
            ":",
            _PAIRS[minute],
            ":",
            _PAIRS[second],
            "Z",
        ],
        n,
    )


def iso_utc_or_null(seconds: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Like `iso_utc`, null (an empty CSV field) where `valid` is false."""
    text = iso_utc(np.where(valid, seconds, 0))
    return with_nulls(text, valid)


def with_nulls(values: pa.Array, valid: np.ndarray) -> pa.Array:
    """Null out the entries of `values` where `valid` is false."""
    if bool(np.all(valid)):
        return values
    return pc.if_else(pa.array(np.asarray(valid, dtype=bool)), values, pa.scalar(None, values.type))


def dates(days: np.ndarray) -> pa.Array:
    """Days since the epoch as an Arrow date32 array (the CSV writer prints YYYY-MM-DD)."""
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.int32()).cast(pa.date32())


def pick(labels: Sequence[str], index: np.ndarray) -> pa.Array:
    """Labels chosen by integer index, as an Arrow string array."""
    return pa.array(list(labels), type=pa.string()).take(
        pa.array(np.asarray(index, dtype=np.int64))
    )


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of Arrow string arrays and literal strings."""
    return pc.binary_join_element_wise(*parts, "")


def integer_text(values: np.ndarray) -> pa.Array:
    """Integers as decimal text without padding."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def id_width(count: int) -> int:
    """Digits of the local part of ids numbering `count` things (at least 7)."""
    return max(7, len(str(max(count - 1, 0))))


def sequential_ids(
    prefix: str, chunk_index: int, local: np.ndarray, width: int | None = None
) -> pa.Array:
    """Ids unique across chunks: prefix, the chunk index, a dash and a local sequence number.

    The chunk index makes ids unique without any state shared between chunks, so every
    chunk can be generated (and regenerated) on its own: APP00003-0001234.
    """
    local = np.asarray(local, dtype=np.int64)
    if width is None:
        width = id_width(int(local.max()) + 1 if local.size else 0)
    head = f"{prefix}{chunk_index:05d}-"
    return fixed_width([head, digit_matrix(local, width)], local.size)
