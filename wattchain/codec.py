"""Canonical msgpack encoding.

Signed data and state records use only ints, bytes, str, bool, None and
lists (arrays). Maps and floats are refused, and a decoded value must
re-encode to exactly the bytes it came from, so every value has one and only
one encoding: ids and signatures can never be malleated by re-encoding.
"""

from __future__ import annotations

from typing import Any

import msgpack

from wattchain.errors import DecodeError

MAX_BYTES_LEN = 1 << 20
MAX_ARRAY_LEN = 1 << 16


def encode(value: Any) -> bytes:
    """Encode ``value`` canonically; raise DecodeError for unsupported types."""
    _check_types(value, depth=0)
    try:
        return encode_unchecked(value)
    except UnicodeEncodeError as exc:  # a str with lone surrogates has no UTF-8 form
        raise DecodeError(f"text is not valid unicode: {exc}") from None


def encode_unchecked(value: Any) -> bytes:
    """Encode a value the caller built from checked parts (hot paths)."""
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def decode(
    data: bytes,
    *,
    max_bytes_len: int = MAX_BYTES_LEN,
    max_array_len: int = MAX_ARRAY_LEN,
) -> Any:
    """Decode one canonical value from ``data``.

    Raises DecodeError on trailing bytes, maps, floats, extension types,
    values over the length limits and non-canonical (non-minimal) encodings.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError("expected bytes")
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=True,
            max_bin_len=max_bytes_len,
            max_str_len=max_bytes_len,
            max_array_len=max_array_len,
            max_map_len=0,
            max_ext_len=0,
        )
    except msgpack.ExtraData as exc:
        raise DecodeError("trailing bytes after value") from exc
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise DecodeError(f"malformed msgpack: {exc}") from exc
    _check_types(value, depth=0)
    if msgpack.packb(value, use_bin_type=True) != bytes(data):
        raise DecodeError("non-canonical encoding")
    return value


_MAX_DEPTH = 32


def _check_types(value: Any, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise DecodeError("value nested too deeply")
    kind = type(value)
    if kind is list or kind is tuple:
        _check_items(value, depth)
        return
    _check_scalar(value, kind)


def _check_items(items: list[Any] | tuple[Any, ...], depth: int) -> None:
    """Check a list's items; scalars inline (no call per item: this runs on
    every tx a node receives)."""
    if items and depth >= _MAX_DEPTH:
        raise DecodeError("value nested too deeply")
    for item in items:
        kind = type(item)
        if kind is bytes or kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -(1 << 63) <= item < (1 << 64):
                raise DecodeError("integer out of the 64-bit range")
            continue
        if kind is list or kind is tuple:
            _check_items(item, depth + 1)
            continue
        raise DecodeError(f"type {kind.__name__} is not allowed in canonical data")


def _check_scalar(value: Any, kind: type) -> None:
    if kind is int or kind is bytes or kind is str or kind is bool or value is None:
        if kind is int and not -(1 << 63) <= value < (1 << 64):
            raise DecodeError("integer out of the 64-bit range")
        return
    raise DecodeError(f"type {kind.__name__} is not allowed in canonical data")
