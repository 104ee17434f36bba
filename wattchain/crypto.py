"""secp256k1 keys, addresses and domain-separated signatures (coincurve).

Signatures are 65 bytes, ``r || s || v`` (recoverable). Only low-S signatures
are accepted, so a signature cannot be malleated into a second valid one.
Every message is hashed together with a domain tag and the chain id, so a
signature made for one purpose or one chain is worthless anywhere else.
"""

from __future__ import annotations

import hashlib
import secrets

from coincurve import PrivateKey as _PrivateKey
from coincurve import PublicKey as _PublicKey

from wattchain.errors import SignatureError

ADDRESS_LEN = 20
SIGNATURE_LEN = 65
PUBLIC_KEY_LEN = 33

_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_ORDER = _CURVE_ORDER // 2
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def sign_bytes(domain: bytes, chain_id: str, payload: bytes) -> bytes:
    """The 32-byte digest that is signed: sha256(domain | len | chain_id | payload)."""
    chain = chain_id.encode()
    return hashlib.sha256(domain + bytes([len(chain)]) + chain + payload).digest()


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
    try:
        public = _PublicKey.from_signature_and_message(signature, digest, hasher=None)
    except Exception as exc:  # coincurve raises ValueError or its own errors
        raise SignatureError(f"signature does not recover a key: {exc}") from None
    return bytes(public.format(compressed=True))


def verify_address(signature: bytes, digest: bytes, address: bytes) -> None:
    """Check that ``signature`` over ``digest`` was made by ``address``'s key."""
    if address_of(recover_signer(signature, digest)) != address:
        raise SignatureError("signature was not made by the sender's key")


def verify_public_key(signature: bytes, digest: bytes, public_key: bytes) -> None:
    """Check that ``signature`` over ``digest`` was made by ``public_key``."""
    if recover_signer(signature, digest) != public_key:
        raise SignatureError("signature was not made by the expected key")
