"""Parsers of the fields every module reads: tx arguments, query data and
genesis sections.

Each returns the canonical value or raises a typed error whose message names
the field: tx arguments raise InvalidArgs (or the module's ``error``), query
fields InvalidQuery, genesis fields the module's genesis error. Ids shared by
modules (zone ids, meter ids) are checked by one rule here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from wattchain.crypto import ADDRESS_LEN, parse_address
from wattchain.vm.errors import InvalidArgs, InvalidQuery, TxError

MAX_INT = (1 << 63) - 1
# ASCII only, so every node (whatever its Python's Unicode tables) agrees.
ZONE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,31}")
METER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
ZONE_ID_RULE = "1-32 ASCII letters, digits or . _ : - (starting with a letter or digit)"

Parsed = TypeVar("Parsed")


def integer_rule(low: int, high: int | None) -> str:
    """How a message names the integers allowed: "a positive integer", "an
    integer in 0..9"."""
    if high is None and low in (0, 1):
        return "a non-negative integer" if low == 0 else "a positive integer"
    return f"an integer in {low}..{MAX_INT if high is None else high}"


# -- tx arguments ---------------------------------------------------------------------


def expect_args(args: list[Any], count: int, usage: str) -> list[Any]:
    if len(args) != count:
        raise InvalidArgs(f"expected {count} arguments: {usage}")
    return args


def arg_address(value: Any, name: str) -> bytes:
    if type(value) is not bytes or len(value) != ADDRESS_LEN:
        raise InvalidArgs(f"{name} must be a 20-byte address")
    return value


def arg_amount(value: Any, name: str, *, allow_zero: bool = False) -> int:
    if type(value) is not int or value < 0 or (value == 0 and not allow_zero):
        raise InvalidArgs(f"{name} must be {integer_rule(0 if allow_zero else 1, None)}")
    return value


def arg_int(value: Any, name: str, low: int, high: int,
            error: type[TxError] = InvalidArgs) -> int:
    if type(value) is not int or not low <= value <= high:
        raise error(f"{name} must be {integer_rule(low, high)}")
    return value


def arg_text(value: Any, name: str, max_len: int = 64, *, allow_empty: bool = False) -> str:
    low = 0 if allow_empty else 1
    if type(value) is not str or not low <= len(value) <= max_len:
        raise InvalidArgs(f"{name} must be text of {low}..{max_len} characters")
    return value


def arg_zone_id(value: Any) -> str:
    if type(value) is not str or not ZONE_ID.fullmatch(value):
        raise InvalidArgs(f"zone id must be {ZONE_ID_RULE}")
    return value


def arg_meter_id(value: Any) -> str:
    """A meter id, or "" for no meter."""
    if value == "":
        return ""
    if type(value) is not str or not METER_ID.fullmatch(value):
        raise InvalidArgs("meter id must be empty or 1-64 ASCII letters, digits or . _ : -")
    return value


# -- query data -----------------------------------------------------------------------


def query_int(data: Mapping[str, Any], name: str, default: int | None = None,
              low: int = 0, high: int | None = None) -> int:
    value = data.get(name, default)
    if type(value) is not int or value < low or (high is not None and value > high):
        raise InvalidQuery(f"data.{name} must be {integer_rule(low, high)}")
    return value


def query_optional_int(data: Mapping[str, Any], name: str, low: int = 0,
                       high: int | None = None) -> int | None:
    """None when the field is absent or null."""
    return None if data.get(name) is None else query_int(data, name, None, low, high)


def query_text(data: Mapping[str, Any], name: str, *, message: str | None = None,
               pattern: re.Pattern[str] | None = None) -> str:
    """Non-empty text (matching ``pattern``, if given); else ``message``."""
    value = data.get(name)
    if not isinstance(value, str) or not value or (pattern and not pattern.fullmatch(value)):
        raise InvalidQuery(message or f"this query needs data {{\"{name}\": \"...\"}}")
    return value


def query_address(data: Mapping[str, Any], name: str, *, message: str | None = None) -> bytes:
    text = query_text(data, name,
                      message=message or f"this query needs data {{\"{name}\": \"0x...\"}}")
    try:
        return parse_address(text)
    except ValueError as exc:
        raise InvalidQuery(str(exc)) from None


def query_choice(data: Mapping[str, Any], name: str, choices: Mapping[str, Any] | tuple[str, ...]
                 ) -> str:
    value = data.get(name)
    if not isinstance(value, str) or value not in choices:
        raise InvalidQuery(f"data.{name} must be one of {', '.join(choices)}")
    return value


def query_optional_choice(data: Mapping[str, Any], name: str,
                          choices: tuple[str, ...]) -> str | None:
    """None when the field is absent or null."""
    return None if data.get(name) is None else query_choice(data, name, choices)


# -- genesis sections -----------------------------------------------------------------


def check_section(section: Any, module: str, known: set[str]) -> None:
    """The section is an object holding only ``known`` fields (else ValueError)."""
    if not isinstance(section, Mapping):
        raise ValueError(f"the {module} section must be an object")
    unknown = sorted(set(section) - known)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(unknown)}")


class GenesisFields:
    """Parsers of the JSON fields of one module's genesis section; each raises
    ``error(prefix + message)`` naming the field."""

    def __init__(self, error: Callable[[str], Exception], prefix: str = "") -> None:
        self.error = error
        self.prefix = prefix

    def fail(self, message: str) -> Exception:
        return self.error(self.prefix + message)

    def integer(self, item: Mapping[str, Any], name: str, low: int = 0,
                high: int = MAX_INT) -> int:
        value = item.get(name)
        if type(value) is not int or not low <= value <= high:
            raise self.fail(f"{name} must be an integer in {low}..{high}")
        return value

    def boolean(self, item: Mapping[str, Any], name: str) -> bool:
        value = item.get(name)
        if type(value) is not bool:
            raise self.fail(f"{name} must be a boolean")
        return value

    def text(self, item: Mapping[str, Any], name: str,
             choices: tuple[str, ...] | None = None) -> str:
        value = item.get(name)
        if type(value) is not str or (choices is not None and value not in choices):
            raise self.fail(f"bad {name} {value!r}")
        return value

    def zone(self, item: Mapping[str, Any], pattern: re.Pattern[str] | None = None) -> str:
        """``item["zone"]``: matching ``pattern`` if given, else any non-empty text
        without NUL (the key separator)."""
        zone = item.get("zone")
        if type(zone) is not str or not zone:
            raise self.fail(f"bad zone id {zone!r}")
        if not pattern.fullmatch(zone) if pattern else "\0" in zone:
            raise self.fail(f"bad zone id {zone!r}")
        return zone

    def address(self, item: Mapping[str, Any], name: str, allow_automatic: bool = False
                ) -> bytes:
        """A 0x address; b"" for "automatic" where ``allow_automatic``."""
        value = item.get(name)
        if allow_automatic and value == "automatic":
            return b""
        try:
            raw = bytes.fromhex(value[2:]) if isinstance(value, str) and value[:2] == "0x" \
                else None
        except ValueError:
            raw = None
        if raw is None or len(raw) != ADDRESS_LEN:
            raise self.fail(f"{name} must be a 0x address")
        return raw

    def entries(self, section: Mapping[str, Any], name: str) -> list[Any]:
        """``section[name]``, a list ([] when absent)."""
        value = section.get(name, [])
        if not isinstance(value, list):
            raise self.fail(f"{name} must be a list")
        return value

    def params(self, data: Mapping[str, Any], kind: Callable[..., Parsed],
               defaults: Mapping[str, int],
               ranges: Mapping[str, tuple[int, int]]) -> Parsed:
        """``kind(**fields)`` from ``data`` over ``defaults``: no unknown field, each
        an integer in its range (0..MAX_INT unless ``ranges`` says otherwise)."""
        unknown = sorted(set(data) - set(defaults))
        if unknown:
            raise self.fail(f"unknown params: {', '.join(unknown)}")
        merged = {**defaults, **data}
        return kind(**{name: self.integer(merged, name, *ranges.get(name, (0, MAX_INT)))
                       for name in defaults})
