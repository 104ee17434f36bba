"""secp256k1 keys, addresses and domain-separated signatures (coincurve).

Signatures are 65 bytes, ``r || s || v`` (recoverable). Only low-S signatures
are accepted, so a signature cannot be malleated into a second valid one.
Every message is hashed together with a domain tag and the chain id, so a
signature made for one purpose or one chain is worthless anywhere else.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from coincurve import PrivateKey as _PrivateKey
from coincurve._libsecp256k1 import ffi as _ffi
from coincurve._libsecp256k1 import lib as _lib
from coincurve.context import GLOBAL_CONTEXT as _CONTEXT

from wattchain.errors import SignatureError

ADDRESS_LEN = 20
SIGNATURE_LEN = 65
PUBLIC_KEY_LEN = 33

_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_ORDER = _CURVE_ORDER // 2
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def sign_bytes(domain: bytes, chain_id: str, payload: bytes) -> bytes:
    """The 32-byte digest that is signed: sha256(domain | len | chain_id | payload)."""
    prefix = _SIGN_PREFIXES.get((domain, chain_id))
    if prefix is None:
        chain = chain_id.encode()
        prefix = domain + bytes([len(chain)]) + chain
        if len(_SIGN_PREFIXES) < 64:  # a node knows a handful of (domain, chain) pairs
            _SIGN_PREFIXES[(domain, chain_id)] = prefix
    return hashlib.sha256(prefix + payload).digest()


_SIGN_PREFIXES: dict[tuple[bytes, str], bytes] = {}


def address_of(public_key: bytes) -> bytes:
    """Address = first 20 bytes of sha256(compressed public key)."""
    return hashlib.sha256(public_key).digest()[:ADDRESS_LEN]


def format_address(address: bytes) -> str:
    return "0x" + address.hex()


def parse_address(text: str) -> bytes:
    """Parse ``0x`` + 40 hex digits; raise ValueError with a clear message."""
    body = text[2:] if text.startswith(("0x", "0X")) else text
    if len(body) != ADDRESS_LEN * 2:
        raise ValueError(f"address must be 0x followed by 40 hex digits, got {text!r}")
    # bytes.fromhex skips whitespace, so check the digits first: "ab..ab  " is not 20 bytes.
    if not all(char in _HEX_DIGITS for char in body):
        raise ValueError(f"address has non-hex characters: {text!r}")
    return bytes.fromhex(body)


def is_low_s(signature: bytes) -> bool:
    return 0 < int.from_bytes(signature[32:64], "big") <= _HALF_ORDER


class PrivateKey:
    """A secp256k1 signing key."""

    __slots__ = ("_key", "public_key", "address")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise ValueError("a private key is 32 bytes")
        self._key = _PrivateKey(secret)
        self.public_key: bytes = self._key.public_key.format(compressed=True)
        self.address: bytes = address_of(self.public_key)

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(secrets.token_bytes(32))

    @property
    def secret(self) -> bytes:
        return bytes(self._key.secret)

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign a 32-byte digest; the result is low-S (libsecp256k1 normalises)."""
        return bytes(self._key.sign_recoverable(digest, hasher=None))

    def sign(self, domain: bytes, chain_id: str, payload: bytes) -> bytes:
        return self.sign_digest(sign_bytes(domain, chain_id, payload))


def recover_signer(signature: bytes, digest: bytes) -> bytes:
    """Return the compressed public key that made ``signature`` over ``digest``.

    Raises SignatureError for a malformed, high-S or unrecoverable signature.
    """
    if type(signature) is not bytes or len(signature) != SIGNATURE_LEN:
        raise SignatureError("signature must be 65 bytes (r, s, recovery id)")
    if signature[64] > 1 or not is_low_s(signature):
        raise SignatureError("signature is not canonical (high S or bad recovery id)")
    if type(digest) is not bytes or len(digest) != 32:
        raise SignatureError("the signed digest must be 32 bytes")
    # libsecp256k1 through coincurve's cffi binding directly: the same calls
    # as coincurve.PublicKey.from_signature_and_message, without its wrapper
    # objects (a tenth of the cost of a recovery, on every tx).
    context = _CONTEXT.ctx
    parsed = _ffi.new("secp256k1_ecdsa_recoverable_signature *")
    if not _lib.secp256k1_ecdsa_recoverable_signature_parse_compact(
            context, parsed, signature[:64], signature[64]):
        raise SignatureError("signature does not recover a key: it does not parse")
    public = _ffi.new("secp256k1_pubkey *")
    if not _lib.secp256k1_ecdsa_recover(context, public, parsed, digest):
        raise SignatureError("signature does not recover a key")
    output = _ffi.new("unsigned char[33]")
    length = _ffi.new("size_t *", PUBLIC_KEY_LEN)
    _lib.secp256k1_ec_pubkey_serialize(context, output, length, public,
                                       _lib.SECP256K1_EC_COMPRESSED)
    return bytes(_ffi.buffer(output, PUBLIC_KEY_LEN))


def verify_address(signature: bytes, digest: bytes, address: bytes) -> None:
    """Check that ``signature`` over ``digest`` was made by ``address``'s key."""
    if address_of(recover_signer(signature, digest)) != address:
        raise SignatureError("signature was not made by the sender's key")


def verify_public_key(signature: bytes, digest: bytes, public_key: bytes) -> None:
    """Check that ``signature`` over ``digest`` was made by ``public_key``."""
    if recover_signer(signature, digest) != public_key:
        raise SignatureError("signature was not made by the expected key")


_POOLS: dict[int, ThreadPoolExecutor] = {}


def recover_signers(items: Sequence[tuple[bytes, bytes]],
                    threads: int = 1) -> list[bytes | SignatureError]:
    """``recover_signer`` for each (signature, digest): the public key, or the
    SignatureError it raised. With ``threads`` > 1 the items are shared out
    over that many threads: libsecp256k1 runs without the GIL (cffi releases
    it), so a batch uses every core. The result does not depend on ``threads``.
    """
    if threads <= 1 or len(items) < 2 * threads:
        return _recover_all(items)
    pool = _POOLS.get(threads)
    if pool is None:
        pool = _POOLS[threads] = ThreadPoolExecutor(threads, "wattchain-verify")
    size = -(-len(items) // threads)
    parts = pool.map(_recover_all, [items[i:i + size] for i in range(0, len(items), size)])
    return [result for part in parts for result in part]


def _recover_all(items: Sequence[tuple[bytes, bytes]]) -> list[bytes | SignatureError]:
    results: list[bytes | SignatureError] = []
    for signature, digest in items:
        try:
            results.append(recover_signer(signature, digest))
        except SignatureError as exc:
            results.append(exc)
    return results
