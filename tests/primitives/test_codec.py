"""Canonical msgpack: one value, one encoding, and nothing outside the subset."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattchain import codec
from wattchain.errors import DecodeError

INT_MIN = -(1 << 63)
INT_MAX = (1 << 64) - 1

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(INT_MIN, INT_MAX),
    st.binary(max_size=300),
    st.text(max_size=40),
)
values = st.recursive(scalars, lambda children: st.lists(children, max_size=6), max_leaves=40)


def same(left: Any, right: Any) -> bool:
    """Equality that also tells True from 1 and a list from a tuple."""
    if type(left) is not type(right):
        return False
    if type(left) is list:
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def nest(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


# -- round trips -------------------------------------------------------------


@settings(max_examples=300, deadline=None, derandomize=True)
@given(values)
def test_round_trip_is_exact(value: Any) -> None:
    data = codec.encode(value)
    decoded = codec.decode(data)
    assert same(decoded, value)
    assert codec.encode(decoded) == data


@settings(max_examples=100, deadline=None, derandomize=True)
@given(values)
def test_encode_matches_plain_msgpack_and_unchecked(value: Any) -> None:
    data = codec.encode(value)
    assert data == msgpack.packb(value, use_bin_type=True)
    assert codec.encode_unchecked(value) == data


@settings(max_examples=100, deadline=None, derandomize=True)
@given(values, values)
def test_different_values_have_different_encodings(left: Any, right: Any) -> None:
    assert (codec.encode(left) == codec.encode(right)) == same(left, right)


def test_bool_and_int_stay_distinct() -> None:
    assert codec.encode(True) == b"\xc3"
    assert codec.encode(1) == b"\x01"
    assert type(codec.decode(b"\xc3")) is bool
    assert type(codec.decode(b"\x01")) is int


def test_bytes_and_str_stay_distinct() -> None:
    assert codec.decode(codec.encode(b"ab")) == b"ab"
    assert codec.decode(codec.encode("ab")) == "ab"
    assert codec.encode(b"ab") != codec.encode("ab")


def test_tuple_encodes_as_array() -> None:
    assert codec.encode((1, b"x", ("y",))) == codec.encode([1, b"x", ["y"]])
    assert codec.decode(codec.encode((1, 2))) == [1, 2]


def test_accepts_bytearray_and_memoryview_input() -> None:
    data = codec.encode([1, b"xy"])
    assert codec.decode(bytearray(data)) == [1, b"xy"]
    assert codec.decode(memoryview(data)) == [1, b"xy"]


# -- refused types -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [1.5, 0.0, float("nan"), [1, [2.0]], {}, {"a": 1}, [{"a": 1}], {1, 2},
     bytearray(b"x"), memoryview(b"x"), object(), [None, [b"", [3j]]]],
)
def test_encode_refuses_types_outside_the_subset(value: Any) -> None:
    with pytest.raises(DecodeError):
        codec.encode(value)


def test_encode_refuses_int_subclasses_other_than_bool() -> None:
    import enum

    class Color(enum.IntEnum):
        RED = 1

    with pytest.raises(DecodeError):
        codec.encode(Color.RED)


def test_encode_refuses_unencodable_text() -> None:
    with pytest.raises(DecodeError):
        codec.encode("\ud800")
    with pytest.raises(DecodeError):
        codec.encode([1, ["ok", "bad \udcff"]])


@pytest.mark.parametrize(
    "data",
    [
        msgpack.packb(1.5),  # float64
        msgpack.packb(1.5, use_single_float=True),  # float32
        msgpack.packb([1, 2.5]),
        b"\x80",  # empty map
        msgpack.packb({"a": 1}),
        msgpack.packb([{"a": 1}]),
        b"\xd4\x00\x01",  # fixext 1
        b"\xd6\xff\x00\x00\x00\x00",  # timestamp extension
        b"\xc7\x00\x05",  # ext8 of length 0
    ],
)
def test_decode_refuses_floats_maps_and_extensions(data: bytes) -> None:
    with pytest.raises(DecodeError):
        codec.decode(data)


@pytest.mark.parametrize("value", [1 << 64, (1 << 64) + 5, INT_MIN - 1, -(1 << 80), [0, 1 << 70]])
def test_ints_outside_64_bits_are_refused(value: Any) -> None:
    with pytest.raises(DecodeError, match="64-bit"):
        codec.encode(value)


@pytest.mark.parametrize("value", [INT_MIN, INT_MAX, -1, 0, (1 << 63) - 1, 1 << 63])
def test_64_bit_boundaries_round_trip(value: int) -> None:
    assert codec.decode(codec.encode(value)) == value


# -- malformed and non-canonical input -----------------------------------------


@pytest.mark.parametrize("tail", [b"\x00", b"\xc0", codec.encode([1, 2])])
def test_trailing_bytes_are_refused(tail: bytes) -> None:
    with pytest.raises(DecodeError, match="trailing"):
        codec.decode(codec.encode([1, b"x"]) + tail)


@pytest.mark.parametrize("data", [b"", b"\x92\x01", b"\xc4\x05ab", b"\xce\x00\x00", b"\xc1",
                                  b"\xa2\xff\xfe"])
def test_truncated_or_invalid_input_is_refused(data: bytes) -> None:
    with pytest.raises(DecodeError):
        codec.decode(data)


@pytest.mark.parametrize("data", ["text", 5, None, [1]])
def test_decode_needs_bytes(data: Any) -> None:
    with pytest.raises(DecodeError, match="expected bytes"):
        codec.decode(data)


@pytest.mark.parametrize(
    "data, value",
    [
        (b"\xcc\x05", 5),  # uint8
        (b"\xcd\x00\x05", 5),  # uint16
        (b"\xce\x00\x00\x00\x05", 5),  # uint32
        (b"\xcf\x00\x00\x00\x00\x00\x00\x00\x05", 5),  # uint64
        (b"\xd0\x05", 5),  # int8 of a positive value
        (b"\xd0\xff", -1),  # int8 instead of negative fixint
        (b"\xd1\xff\xdf", -33),  # int16 instead of int8
        (b"\xd1\x00\xc8", 200),  # int16 instead of uint8
        (b"\xcd\x00\xc8", 200),  # uint16 instead of uint8
        (b"\xc5\x00\x02ab", b"ab"),  # bin16 instead of bin8
        (b"\xc6\x00\x00\x00\x02ab", b"ab"),  # bin32
        (b"\xd9\x02ab", "ab"),  # str8 instead of fixstr
        (b"\xda\x00\x02ab", "ab"),  # str16
        (b"\xdc\x00\x01\x01", [1]),  # array16 instead of fixarray
        (b"\xdd\x00\x00\x00\x01\x01", [1]),  # array32
        (b"\x91\xcc\x05", [5]),  # a non-minimal int inside an array
    ],
)
def test_non_canonical_encodings_are_refused(data: bytes, value: Any) -> None:
    # msgpack itself reads these as the value; only canonicity is wrong.
    assert msgpack.unpackb(data, raw=False) == value
    with pytest.raises(DecodeError, match="non-canonical"):
        codec.decode(data)


# -- limits --------------------------------------------------------------------


def test_bytes_length_limit() -> None:
    assert codec.decode(codec.encode(b"x" * 10), max_bytes_len=10) == b"x" * 10
    with pytest.raises(DecodeError):
        codec.decode(codec.encode(b"x" * 11), max_bytes_len=10)


def test_str_length_limit() -> None:
    assert codec.decode(codec.encode("y" * 10), max_bytes_len=10) == "y" * 10
    with pytest.raises(DecodeError):
        codec.decode(codec.encode("y" * 11), max_bytes_len=10)


def test_array_length_limit() -> None:
    assert codec.decode(codec.encode([0] * 5), max_array_len=5) == [0] * 5
    with pytest.raises(DecodeError):
        codec.decode(codec.encode([0] * 6), max_array_len=5)
    with pytest.raises(DecodeError):  # the limit applies to nested arrays too
        codec.decode(codec.encode([[0] * 6]), max_array_len=5)


def test_default_limits() -> None:
    at_limit = b"\x00" * codec.MAX_BYTES_LEN
    assert codec.decode(codec.encode(at_limit)) == at_limit
    with pytest.raises(DecodeError):
        codec.decode(msgpack.packb(at_limit + b"\x00", use_bin_type=True))
    assert len(codec.decode(codec.encode([0] * codec.MAX_ARRAY_LEN))) == codec.MAX_ARRAY_LEN
    with pytest.raises(DecodeError):
        codec.decode(msgpack.packb([0] * (codec.MAX_ARRAY_LEN + 1)))


def test_nesting_limit_on_encode_and_decode() -> None:
    allowed = nest(32)
    assert codec.decode(codec.encode(allowed)) == allowed
    too_deep = msgpack.packb(nest(33))
    with pytest.raises(DecodeError, match="nested too deeply"):
        codec.encode(nest(33))
    with pytest.raises(DecodeError, match="nested too deeply"):
        codec.decode(too_deep)


def test_very_deep_nesting_is_a_decode_error_not_a_crash() -> None:
    with pytest.raises(DecodeError):
        codec.decode(b"\x91" * 100_000 + b"\x00")
    with pytest.raises(DecodeError):
        codec.encode(nest(10_000))
