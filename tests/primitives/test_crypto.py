"""Keys, addresses and domain-separated, low-S, recoverable signatures."""

from __future__ import annotations

import hashlib

import pytest
from coincurve import PublicKey as CoincurvePublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from wattchain import crypto
from wattchain.crypto import (
    PrivateKey,
    address_of,
    format_address,
    is_low_s,
    parse_address,
    recover_signer,
    sign_bytes,
    verify_address,
    verify_public_key,
)
from wattchain.errors import SignatureError
from wattchain.types import TX_DOMAIN, VOTE_DOMAIN, Tx, sign_tx

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GENERATOR = bytes.fromhex("0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798")
CHAIN = "wattchain-test"


def key(index: int) -> PrivateKey:
    return PrivateKey(bytes([index]) * 32)


def split(signature: bytes) -> tuple[int, int, int]:
    return (int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"),
            signature[64])


def join(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


# -- keys and addresses -----------------------------------------------------------


def test_secret_one_gives_the_generator_point() -> None:
    one = PrivateKey((1).to_bytes(32, "big"))
    assert one.public_key == GENERATOR
    assert one.address == hashlib.sha256(GENERATOR).digest()[:20]


def test_key_is_deterministic_and_secret_round_trips() -> None:
    first, second = key(7), key(7)
    assert first.public_key == second.public_key
    assert first.address == address_of(first.public_key)
    assert len(first.public_key) == crypto.PUBLIC_KEY_LEN
    assert first.public_key[0] in (2, 3)
    assert PrivateKey(first.secret).public_key == first.public_key
    assert key(7).address != key(8).address


@pytest.mark.parametrize("secret", [b"", b"\x01" * 31, b"\x01" * 33])
def test_private_key_must_be_32_bytes(secret: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PrivateKey(secret)


def test_zero_secret_is_not_a_key() -> None:
    with pytest.raises(ValueError):
        PrivateKey(bytes(32))


def test_address_format_and_parse() -> None:
    address = key(3).address
    text = format_address(address)
    assert text == "0x" + address.hex()
    assert len(text) == 42
    assert parse_address(text) == address
    assert parse_address(text.upper().replace("0X", "0x")) == address
    assert parse_address("0X" + address.hex()) == address


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.binary(min_size=20, max_size=20))
def test_address_round_trip(address: bytes) -> None:
    assert parse_address(format_address(address)) == address


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0x",
        "0x" + "ab" * 19,  # 19 bytes
        "0x" + "ab" * 21,  # 21 bytes
        "0x" + "ab" * 19 + "a",  # odd number of digits
        "0x" + "zz" * 20,
        "0x" + "ab" * 19 + "  ",  # whitespace padding to 40 characters
        "0x" + "ab " * 13 + "a",  # whitespace between bytes
        "0x" + "ab" * 19 + "\tc",
        "0x " + "ab" * 19 + " ",
        "0x" + "１２" * 20,  # non-ASCII digits
        "0x0x" + "ab" * 19,
    ],
)
def test_parse_address_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="address"):
        parse_address(text)


# -- signing and recovery ------------------------------------------------------------


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(1, 254), st.binary(max_size=200), st.text(min_size=1, max_size=20))
def test_sign_recover_round_trip(index: int, payload: bytes, chain_id: str) -> None:
    signer = key(index)
    signature = signer.sign(TX_DOMAIN, chain_id, payload)
    digest = sign_bytes(TX_DOMAIN, chain_id, payload)
    assert len(signature) == crypto.SIGNATURE_LEN
    assert signature[64] in (0, 1)
    assert is_low_s(signature)
    assert recover_signer(signature, digest) == signer.public_key
    verify_address(signature, digest, signer.address)
    verify_public_key(signature, digest, signer.public_key)


def test_signatures_are_deterministic() -> None:
    digest = sign_bytes(TX_DOMAIN, CHAIN, b"payload")
    assert key(3).sign_digest(digest) == key(3).sign_digest(digest)
    assert key(3).sign_digest(digest) != key(4).sign_digest(digest)


def test_sign_bytes_layout() -> None:
    expected = hashlib.sha256(TX_DOMAIN + bytes([len(CHAIN)]) + CHAIN.encode() + b"p").digest()
    assert sign_bytes(TX_DOMAIN, CHAIN, b"p") == expected


def test_chain_id_is_length_prefixed() -> None:
    # Without the length byte these two would hash the same bytes.
    assert sign_bytes(TX_DOMAIN, "ab", b"c") != sign_bytes(TX_DOMAIN, "a", b"bc")


def test_high_s_signature_is_rejected() -> None:
    digest = sign_bytes(TX_DOMAIN, CHAIN, b"pay me")
    signature = key(3).sign_digest(digest)
    r, s, v = split(signature)
    malleated = join(r, CURVE_ORDER - s, v ^ 1)
    # The malleated signature is mathematically valid for the same key...
    recovered = CoincurvePublicKey.from_signature_and_message(malleated, digest, hasher=None)
    assert recovered.format(compressed=True) == key(3).public_key
    # ...but not canonical, so it is refused.
    assert not is_low_s(malleated)
    with pytest.raises(SignatureError, match="canonical"):
        recover_signer(malleated, digest)
    with pytest.raises(SignatureError):
        verify_address(malleated, digest, key(3).address)


def test_low_s_boundaries() -> None:
    half = CURVE_ORDER // 2
    assert is_low_s(join(1, half, 0))
    assert not is_low_s(join(1, half + 1, 0))
    assert not is_low_s(join(1, 0, 0))
    assert is_low_s(join(1, 1, 0))


@pytest.mark.parametrize("recovery_id", [2, 3, 27, 255])
def test_recovery_id_above_one_is_rejected(recovery_id: int) -> None:
    digest = sign_bytes(TX_DOMAIN, CHAIN, b"x")
    signature = key(3).sign_digest(digest)
    with pytest.raises(SignatureError, match="recovery id"):
        recover_signer(signature[:64] + bytes([recovery_id]), digest)


def test_flipped_recovery_id_recovers_another_key() -> None:
    digest = sign_bytes(TX_DOMAIN, CHAIN, b"x")
    signature = key(3).sign_digest(digest)
    flipped = signature[:64] + bytes([signature[64] ^ 1])
    # The other point with the same x coordinate: a valid key, just not the signer's.
    assert recover_signer(flipped, digest) != key(3).public_key
    with pytest.raises(SignatureError):
        verify_address(flipped, digest, key(3).address)


@pytest.mark.parametrize(
    "signature",
    [b"", b"\x01" * 64, b"\x01" * 66, bytearray(b"\x01" * 65), "a" * 65, None,
     join(0, 1, 0), join(CURVE_ORDER, 1, 0), bytes(65)],
)
def test_malformed_signatures_are_rejected(signature: object) -> None:
    digest = sign_bytes(TX_DOMAIN, CHAIN, b"x")
    with pytest.raises(SignatureError):
        recover_signer(signature, digest)  # type: ignore[arg-type]


def test_digest_of_wrong_length_is_a_signature_error() -> None:
    signature = key(3).sign_digest(sign_bytes(TX_DOMAIN, CHAIN, b"x"))
    with pytest.raises(SignatureError):
        recover_signer(signature, b"short")


@pytest.mark.parametrize(
    "domain, chain_id, payload",
    [
        (TX_DOMAIN, "another-chain", b"payload"),
        (VOTE_DOMAIN, CHAIN, b"payload"),
        (TX_DOMAIN, CHAIN, b"payloaD"),
    ],
)
def test_signature_is_bound_to_domain_chain_and_payload(
    domain: bytes, chain_id: str, payload: bytes
) -> None:
    signer = key(3)
    signature = signer.sign(TX_DOMAIN, CHAIN, b"payload")
    original = sign_bytes(TX_DOMAIN, CHAIN, b"payload")
    other = sign_bytes(domain, chain_id, payload)
    assert other != original
    verify_address(signature, original, signer.address)
    with pytest.raises(SignatureError):
        verify_address(signature, other, signer.address)
    with pytest.raises(SignatureError):
        verify_public_key(signature, other, signer.public_key)


def test_verify_refuses_another_signer() -> None:
    digest = sign_bytes(TX_DOMAIN, CHAIN, b"x")
    signature = key(3).sign_digest(digest)
    with pytest.raises(SignatureError, match="sender"):
        verify_address(signature, digest, key(4).address)
    with pytest.raises(SignatureError, match="expected key"):
        verify_public_key(signature, digest, key(4).public_key)


def test_tampered_tx_body_fails_verification() -> None:
    signer = key(3)
    stx = sign_tx(Tx(CHAIN, signer.address, 0, 10, "accounts", "transfer",
                     [key(4).address, 100]), signer)
    verify_address(stx.signature, stx.sign_digest(), signer.address)
    tampered = Tx(CHAIN, signer.address, 0, 10, "accounts", "transfer", [key(4).address, 101])
    body = tampered.encode()
    assert body != stx.body
    with pytest.raises(SignatureError):
        verify_address(stx.signature, tampered.sign_digest(body), signer.address)
    flipped = bytearray(stx.body)
    flipped[-1] ^= 1
    with pytest.raises(SignatureError):
        verify_address(stx.signature, stx.tx.sign_digest(bytes(flipped)), signer.address)
