"""Keyed pseudonyms: the join keys that replace national ID, phone and name downstream.

A pseudonym is ``HMAC-SHA256(pseudonym_key, kind + "\\x1f" + normalised value)`` as 64 hex
characters. Normalising first makes the same phone written two ways by two sources join;
putting the kind in the message keeps a phone and an ID that happen to share digits from
ever colliding; the key makes pseudonyms useless to anyone without it (an unkeyed hash of
an 11-digit phone number is reversed by enumeration in minutes).

Values that normalise to the empty string (``"  "``, ``"-"`` as a phone) become null, not
the pseudonym of ``""``: otherwise every blank phone would share one pseudonym and glue
unrelated applicants into one giant "ring" in the shared-identifier graph.

It runs over millions of rows, so each distinct value is normalised (vectorised, in
Arrow) and hashed once, and the result is taken back by dictionary indices.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

import pyarrow as pa
import pyarrow.compute as pc

from zhongtai.privacy.keys import MIN_PSEUDONYM_KEY_BYTES

PSEUDONYM_HEX_CHARS = 64
KIND_SEPARATOR = b"\x1f"
_KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
_SHA256_BLOCK = 64
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))

Normaliser = Callable[[pa.Array], pa.Array]


def _national_id(values: pa.Array) -> pa.Array:
    # NFKC first: full-width digits and letters (１１０１０５…ｘ) are common in typed-in IDs.
    return pc.utf8_upper(pc.utf8_trim_whitespace(pc.utf8_normalize(values, "NFKC")))


def _phone(values: pa.Array) -> pa.Array:
    digits = pc.replace_substring_regex(pc.utf8_normalize(values, "NFKC"), r"[^0-9]", "")
    # +86 / 0086 country code in front of an 11-digit mainland number.
    return pc.replace_substring_regex(digits, r"^(?:86|0086)([0-9]{11})$", r"\1")


def _name(values: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(pc.utf8_normalize(values, "NFKC"))


def _residential_address(values: pa.Array) -> pa.Array:
    collapsed = pc.replace_substring_regex(pc.utf8_normalize(values, "NFKC"), r"[\s\p{Z}]+", " ")
    return pc.utf8_trim_whitespace(collapsed)


def _default(values: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(values)


NORMALISERS: dict[str, Normaliser] = {
    "national_id": _national_id,
    "phone": _phone,
    "name": _name,
    "residential_address": _residential_address,
}


def normalise(values: pa.Array, *, kind: str) -> pa.Array:
    """The value that is hashed for ``kind`` (any unlisted kind is only stripped)."""
    _check_kind(kind)
    strings = values.cast(pa.large_string()) if values.type != pa.large_string() else values
    return NORMALISERS.get(kind, _default)(strings)


def pseudonymise(values: pa.Array | pa.ChunkedArray, *, kind: str, key: bytes) -> pa.Array:
    """Pseudonyms (64 hex chars, ``pa.string()``) of ``values``; nulls stay null.

    ``values`` may be strings (any Arrow string type), integers (phones stored as
    numbers) or dictionary-encoded either way.
    """
    _check_kind(kind)
    _check_key(key)
    encoded = _dictionary_encoded(values)
    distinct = normalise(encoded.dictionary, kind=kind).to_pylist()
    digests = _hmac_sha256_hex_many(key, kind.encode("ascii") + KIND_SEPARATOR, distinct)
    return pa.array(digests, type=pa.string()).take(encoded.indices)


def pseudonymise_one(value: str | int | None, *, kind: str, key: bytes) -> str | None:
    """The pseudonym of one value (an erasure request, an API lookup).

    Goes through :func:`pseudonymise` so the two can never disagree on normalisation,
    except for a national id in plain ASCII with nothing to trim (what the decision API's
    schema admits, on every request): its normalisation is only ``str.upper``, done here
    without the Arrow round trip (a test checks it against Arrow's).
    """
    if kind == "national_id" and isinstance(value, str) and _plain_ascii(value):
        _check_key(key)
        prefix = kind.encode("ascii") + KIND_SEPARATOR
        return _hmac_sha256_hex_many(key, prefix, [value.upper()])[0]
    result: str | None = pseudonymise(pa.array([value]), kind=kind, key=key)[0].as_py()
    return result


def _plain_ascii(text: str) -> bool:
    """Printable ASCII with no space at either end: NFKC and trimming leave it as it is."""
    return text.isascii() and text.isprintable() and text.strip() == text


def _dictionary_encoded(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], type=values.type)
    if not isinstance(values, pa.Array):
        raise TypeError(f"expected a pyarrow Array or ChunkedArray, got {type(values).__name__}")
    value_type = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if not (
        pa.types.is_string(value_type)
        or pa.types.is_large_string(value_type)
        or pa.types.is_string_view(value_type)
        or pa.types.is_integer(value_type)
        or pa.types.is_null(value_type)
    ):
        raise TypeError(f"cannot pseudonymise values of type {values.type}: expected strings")
    if pa.types.is_null(value_type):
        values = values.cast(pa.string())
    if pa.types.is_dictionary(values.type):
        return values
    encoded: pa.DictionaryArray = pc.dictionary_encode(values)
    return encoded


def _hmac_sha256_hex_many(
    key: bytes, prefix: bytes, texts: Iterable[str | None]
) -> list[str | None]:
    """HMAC-SHA256 (RFC 2104) hex digests of ``prefix + text``; None for None or "".

    Identical to ``hmac.digest(key, prefix + text, "sha256").hex()`` (tests check it), but
    the keyed inner and outer states, and the constant prefix, are computed once and
    copied per value: about 1 µs a value instead of about 5 µs for ``hmac.digest``.
    """
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    block = key.ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(block.translate(_IPAD))
    inner.update(prefix)
    outer = hashlib.sha256(block.translate(_OPAD))
    inner_copy, outer_copy = inner.copy, outer.copy
    digests: list[str | None] = []
    append = digests.append
    for text in texts:
        if not text:
            append(None)
            continue
        state = inner_copy()
        state.update(text.encode("utf-8"))
        final = outer_copy()
        final.update(state.digest())
        append(final.hexdigest())
    return digests


def _check_kind(kind: str) -> None:
    if not _KIND_PATTERN.fullmatch(kind):
        raise ValueError(f"pseudonym kind {kind!r} must be lowercase snake_case, e.g. 'phone'")


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_PSEUDONYM_KEY_BYTES:
        raise ValueError(
            f"pseudonym key must be at least {MIN_PSEUDONYM_KEY_BYTES} bytes "
            "(use resolve_keyring(settings).pseudonym_key)"
        )
