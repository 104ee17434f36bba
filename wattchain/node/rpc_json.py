"""Reading request bodies and writing replies so that no input can break either.

Every byte sequence a client sends either decodes into a JSON value or yields
a Parse error; every reply encodes into bytes whatever the request held (lone
UTF-16 surrogates, huge numbers, deep nesting). Both functions are cheap on
the usual path: one ``json.loads`` and one ``json.dumps``.
"""

from __future__ import annotations

import json
from typing import Any

from wattchain.node.rpc_errors import INTERNAL_ERROR, PARSE_ERROR, RpcError

MAX_INT_DIGITS = 40  # integers in query strings and string params; heights fit in 20

# A reply that could not be encoded (a bug): still valid JSON-RPC.
UNENCODABLE_REPLY = json.dumps({
    "jsonrpc": "2.0", "id": None,
    "error": {"code": INTERNAL_ERROR, "message": "Internal error",
              "data": "the reply could not be encoded"}}).encode()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes | str) -> Any:
    """The JSON value of ``body``; RpcError(PARSE_ERROR) for anything else.

    NaN and Infinity are refused (they are not JSON and could not be echoed);
    so are invalid UTF-8, integers past Python's digit limit and nesting too
    deep for the decoder.
    """
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise RpcError(PARSE_ERROR, "Parse error", _short(str(exc))) from None


def encode_json(payload: Any) -> bytes:
    """``payload`` as UTF-8 JSON bytes; never raises.

    Strings holding lone surrogates (which UTF-8 cannot carry) are written as
    ``\\uXXXX`` escapes; a payload that cannot be encoded at all becomes an
    Internal error reply.
    """
    try:
        return json.dumps(payload, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        pass
    except (ValueError, TypeError, RecursionError):
        return UNENCODABLE_REPLY
    try:
        return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode("ascii")
    except (ValueError, TypeError, RecursionError):
        return UNENCODABLE_REPLY


def dump_json_text(payload: Any) -> str:
    """``payload`` as ASCII JSON text (lone surrogates escaped); never raises."""
    try:
        return json.dumps(payload, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return UNENCODABLE_REPLY.decode()


def is_valid_id(value: Any) -> bool:
    """A JSON-RPC id that may be echoed back: null, an integer, or a UTF-8-safe string."""
    if value is None:
        return True
    if type(value) is int:
        return True
    return type(value) is str and is_utf8_safe(value)


def is_utf8_safe(text: str) -> bool:
    """True when ``text`` has no lone surrogate (so UTF-8 can carry it)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_int_text(text: str) -> int | None:
    """The integer written in ``text`` (ASCII digits, optional leading minus), or None."""
    digits = text[1:] if text.startswith("-") else text
    if not (0 < len(digits) <= MAX_INT_DIGITS and digits.isascii() and digits.isdigit()):
        return None
    return int(text)


def _short(message: str, limit: int = 200) -> str:
    """An exception message cut to ``limit`` characters, safe to echo."""
    message = message if is_utf8_safe(message) else message.encode("utf-8", "replace").decode()
    return message if len(message) <= limit else message[:limit] + "..."
