"""Chain data types: exact round trips, strict shape checks, Merkle roots."""

from __future__ import annotations

import hashlib
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattchain import codec
from wattchain.crypto import PrivateKey, verify_address
from wattchain.errors import DecodeError
from wattchain.hashing import EMPTY_HASH, merkle_root, sha256
from wattchain.types import (
    VOTE_PRECOMMIT,
    VOTE_PREVOTE,
    Block,
    Commit,
    CommitSig,
    Event,
    Header,
    SignedTx,
    Tx,
    Vote,
    sign_tx,
)

U64 = st.integers(0, (1 << 64) - 1)
ADDRESS = st.binary(min_size=20, max_size=20)
HASH = st.binary(min_size=32, max_size=32)
NAME = st.text(min_size=1, max_size=64)
SIGNATURE = st.binary(min_size=65, max_size=65)
codec_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(1 << 63), (1 << 64) - 1),
                          st.binary(max_size=40), st.text(max_size=20))
codec_values = st.recursive(codec_scalars, lambda c: st.lists(c, max_size=4), max_leaves=12)

txs = st.builds(Tx, chain_id=NAME, sender=ADDRESS, nonce=U64, fee=U64, module=NAME,
                method=NAME, args=st.lists(codec_values, max_size=5), valid_until_height=U64)
votes = st.builds(Vote, vote_type=st.sampled_from([VOTE_PREVOTE, VOTE_PRECOMMIT]), height=U64,
                  round=U64, block_hash=st.one_of(st.just(b""), HASH), timestamp_ms=U64,
                  validator=ADDRESS, signature=st.binary(max_size=70))
commit_sigs = st.builds(CommitSig, validator=ADDRESS, timestamp_ms=U64, signature=SIGNATURE)
commits = st.builds(Commit, height=U64, round=U64, block_hash=HASH,
                    signatures=st.lists(commit_sigs, max_size=4))
headers = st.builds(Header, chain_id=NAME, height=U64, time_ms=U64, proposer=ADDRESS,
                    prev_block_hash=st.one_of(st.just(b""), HASH), tx_root=HASH, app_hash=HASH,
                    validators_hash=HASH, last_commit_hash=st.one_of(st.just(b""), HASH))
blocks = st.builds(Block, header=headers, txs=st.lists(st.binary(max_size=100), max_size=5),
                   last_commit=st.one_of(st.none(), commits),
                   evidence=st.lists(st.binary(max_size=50), max_size=3))
events = st.builds(Event, module=NAME, kind=NAME,
                   attributes=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=100)),
                                       max_size=5))

SENDER = PrivateKey(bytes([3]) * 32)


def sample_tx(**changes: Any) -> Tx:
    fields = {"chain_id": "wattchain-test", "sender": SENDER.address, "nonce": 1, "fee": 10,
              "module": "accounts", "method": "transfer", "args": [b"\x01" * 20, 5],
              "valid_until_height": 0}
    fields.update(changes)
    return Tx(**fields)


def signed_raw(body: Any, signature: Any = b"\x00" * 65) -> bytes:
    """A signed-tx encoding around an arbitrary (possibly wrong) body list."""
    return codec.encode([codec.encode(body), signature])


# -- round trips -------------------------------------------------------------------


@settings(max_examples=100, deadline=None, derandomize=True)
@given(txs)
def test_tx_round_trip(tx: Tx) -> None:
    assert Tx.from_list(codec.decode(tx.encode())) == tx


@settings(max_examples=100, deadline=None, derandomize=True)
@given(txs, SIGNATURE)
def test_signed_tx_round_trip(tx: Tx, signature: bytes) -> None:
    stx = SignedTx.create(tx, signature)
    decoded = SignedTx.decode(stx.raw)
    assert decoded == stx
    assert decoded.tx == tx
    assert decoded.tx_id == sha256(stx.raw)
    assert codec.decode(stx.raw) == [tx.encode(), signature]


def test_signed_tx_id_and_signature() -> None:
    stx = sign_tx(sample_tx(), SENDER)
    raw = stx.raw
    decoded = SignedTx.decode(raw)
    assert decoded.tx_id == hashlib.sha256(raw).digest()
    assert decoded.body == sample_tx().encode()
    verify_address(decoded.signature, decoded.sign_digest(), SENDER.address)
    # A different signature is a different tx id, the same body.
    other = SignedTx.create(sample_tx(), b"\x01" * 65)
    assert other.tx_id != decoded.tx_id
    assert other.body == decoded.body


@settings(max_examples=100, deadline=None, derandomize=True)
@given(votes)
def test_vote_round_trip(vote: Vote) -> None:
    assert Vote.decode(vote.encode()) == vote


def test_vote_sign_payload_excludes_signature_and_binds_chain() -> None:
    vote = Vote(VOTE_PREVOTE, 5, 0, b"\x11" * 32, 1_000, SENDER.address, b"")
    signed = Vote(VOTE_PREVOTE, 5, 0, b"\x11" * 32, 1_000, SENDER.address, b"\x22" * 65)
    assert vote.sign_payload() == signed.sign_payload()
    assert vote.sign_digest("a") != vote.sign_digest("b")
    precommit = Vote(VOTE_PRECOMMIT, 5, 0, b"\x11" * 32, 1_000, SENDER.address, b"")
    assert precommit.sign_digest("a") != vote.sign_digest("a")


@settings(max_examples=100, deadline=None, derandomize=True)
@given(commits)
def test_commit_round_trip(commit: Commit) -> None:
    assert Commit.decode(commit.encode()) == commit
    assert commit.hash() == sha256(commit.encode())


def test_commit_vote_of_is_a_precommit_for_the_block() -> None:
    sig = CommitSig(SENDER.address, 1234, b"\x05" * 65)
    commit = Commit(7, 2, b"\x33" * 32, [sig])
    vote = commit.vote_of(sig)
    assert vote == Vote(VOTE_PRECOMMIT, 7, 2, b"\x33" * 32, 1234, SENDER.address, b"\x05" * 65)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(headers)
def test_header_round_trip(header: Header) -> None:
    assert Header.from_list(codec.decode(codec.encode(header.to_list()))) == header
    assert header.hash() == sha256(codec.encode(header.to_list()))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(blocks)
def test_block_round_trip(block: Block) -> None:
    data = block.encode()
    decoded = Block.decode(data)
    assert decoded == block
    assert decoded.hash() == block.header.hash()
    assert decoded.encode() == data


@settings(max_examples=100, deadline=None, derandomize=True)
@given(events)
def test_event_round_trip(event: Event) -> None:
    assert Event.from_list(event.to_list()) == event
    assert Event.from_list(codec.decode(codec.encode(event.to_list()))) == event


def test_event_to_json() -> None:
    event = Event("accounts", "transfer", [("sender", "0x01"), ("amount", "5")])
    assert event.to_json() == {"module": "accounts", "kind": "transfer",
                               "attributes": {"sender": "0x01", "amount": "5"}}


# -- decode refuses wrong shapes --------------------------------------------------


GOOD_BODY = sample_tx().to_list()


def body_with(index: int, value: Any) -> list[Any]:
    body = list(GOOD_BODY)
    body[index] = value
    return body


@pytest.mark.parametrize(
    "raw",
    [
        signed_raw(body_with(1, b"\x01" * 19)),  # sender too short
        signed_raw(body_with(1, b"\x01" * 21)),  # sender too long
        signed_raw(body_with(1, "0x" + "01" * 20)),  # sender as text
        signed_raw(body_with(2, -1)),  # negative nonce
        signed_raw(body_with(2, True)),  # bool is not an int
        signed_raw(body_with(3, -5)),  # negative fee
        signed_raw(body_with(0, "")),  # empty chain id
        signed_raw(body_with(0, b"wattchain-test")),  # chain id as bytes
        signed_raw(body_with(4, "m" * 65)),  # module name too long
        signed_raw(body_with(5, 7)),  # method not text
        signed_raw(body_with(6, b"args")),  # args not an array
        signed_raw(body_with(7, -1)),  # negative valid_until_height
        signed_raw(GOOD_BODY + [0]),  # extra body field
        signed_raw(GOOD_BODY[:-1]),  # missing body field
        signed_raw(5),  # body is not an array
        codec.encode([GOOD_BODY, b"\x00" * 65]),  # body is not bytes
        codec.encode([codec.encode(GOOD_BODY), "sig"]),  # signature is not bytes
        codec.encode([codec.encode(GOOD_BODY), b"\x00" * 65, b""]),  # extra outer field
        codec.encode([codec.encode(GOOD_BODY)]),  # missing signature
        codec.encode([codec.encode(GOOD_BODY) + b"\x00", b"\x00" * 65]),  # body trailing byte
        codec.encode(b"not a tx"),
        b"\xc1",
    ],
)
def test_signed_tx_decode_rejects_wrong_shapes(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        SignedTx.decode(raw)


def test_non_canonical_body_is_rejected() -> None:
    # The nonce 1 written as uint8 0xcc01: the same value in different bytes.
    parts = [codec.encode(item) for item in GOOD_BODY]
    assert parts[2] == b"\x01"
    parts[2] = b"\xcc\x01"
    bad_body = b"\x98" + b"".join(parts)
    assert Tx.from_list(msgpack.unpackb(bad_body, raw=False)) == sample_tx()
    with pytest.raises(DecodeError, match="non-canonical"):
        SignedTx.decode(codec.encode([bad_body, b"\x00" * 65]))


def test_oversized_tx_is_rejected() -> None:
    stx = SignedTx.create(sample_tx(args=[b"\x00" * 2_000]), b"\x00" * 65)
    assert SignedTx.decode(stx.raw, max_bytes=len(stx.raw)) == stx
    with pytest.raises(DecodeError, match="limit"):
        SignedTx.decode(stx.raw, max_bytes=len(stx.raw) - 1)
    huge = SignedTx.create(sample_tx(args=[b"\x00" * (64 * 1024)]), b"\x00" * 65)
    with pytest.raises(DecodeError, match="limit"):
        SignedTx.decode(huge.raw)


@pytest.mark.parametrize(
    "items",
    [
        [3, 1, 0, b"", 0, b"\x01" * 20, b""],  # unknown vote type
        [0, 1, 0, b"", 0, b"\x01" * 20, b""],
        [1, 1, 0, b"\x01" * 31, 0, b"\x01" * 20, b""],  # block hash neither nil nor 32
        [1, -1, 0, b"", 0, b"\x01" * 20, b""],  # negative height
        [1, 1, 0, b"", 0, b"\x01" * 19, b""],  # short validator
        [1, 1, 0, b"", 0, b"\x01" * 20],  # missing signature
        [1, 1, 0, b"", 0, b"\x01" * 20, b"", 0],  # extra field
        [1, 1, 0, "", 0, b"\x01" * 20, b""],  # block hash as text
    ],
)
def test_vote_decode_rejects_wrong_shapes(items: list[Any]) -> None:
    with pytest.raises(DecodeError):
        Vote.decode(codec.encode(items))


@pytest.mark.parametrize(
    "items",
    [
        [1, 0, b"", []],  # commit for nil
        [1, 0, b"\x01" * 32, [[b"\x01" * 20, 0]]],  # short commit signature
        [1, 0, b"\x01" * 32, [[b"\x01" * 19, 0, b""]]],
        [1, 0, b"\x01" * 32, b""],  # signatures not an array
        [1, 0, b"\x01" * 32],
        [-1, 0, b"\x01" * 32, []],
    ],
)
def test_commit_decode_rejects_wrong_shapes(items: list[Any]) -> None:
    with pytest.raises(DecodeError):
        Commit.decode(codec.encode(items))


GOOD_HEADER = Header("c", 1, 2, b"\x01" * 20, b"", b"\x02" * 32, b"\x03" * 32, b"\x04" * 32, b"")


def header_with(index: int, value: Any) -> list[Any]:
    items = GOOD_HEADER.to_list()
    items[index] = value
    return items


@pytest.mark.parametrize(
    "items",
    [
        header_with(0, ""),
        header_with(1, -1),
        header_with(3, b"\x01" * 21),
        header_with(5, b"\x02" * 31),
        header_with(6, b""),
        header_with(7, None),
        GOOD_HEADER.to_list()[:8],
        GOOD_HEADER.to_list() + [b""],
    ],
)
def test_header_decode_rejects_wrong_shapes(items: list[Any]) -> None:
    with pytest.raises(DecodeError):
        Header.from_list(items)


@pytest.mark.parametrize(
    "items",
    [
        [GOOD_HEADER.to_list(), [b"tx", 5], None, []],  # a tx that is not bytes
        [GOOD_HEADER.to_list(), b"txs", None, []],
        [GOOD_HEADER.to_list(), [], None, ["evidence"]],
        [GOOD_HEADER.to_list(), [], None],
        [GOOD_HEADER.to_list(), [], [1, 0, b"", []], []],  # a bad last commit
        [header_with(1, -1), [], None, []],
    ],
)
def test_block_decode_rejects_wrong_shapes(items: list[Any]) -> None:
    with pytest.raises(DecodeError):
        Block.decode(codec.encode(items))


@pytest.mark.parametrize(
    "items",
    [
        ["accounts", "transfer"],
        ["accounts", "transfer", 5],  # attributes not an array
        ["accounts", "transfer", [["a"]]],  # attribute not a pair
        ["accounts", "transfer", [["a", 1]]],  # attribute value not text
        ["accounts", "transfer", [[b"a", "1"]]],
        [1, "transfer", []],  # module not text
        ["accounts", None, []],  # kind not text
        ["accounts", "transfer", [], 1],
    ],
)
def test_event_from_list_rejects_wrong_shapes(items: list[Any]) -> None:
    with pytest.raises(DecodeError):
        Event.from_list(items)


# -- Merkle root ----------------------------------------------------------------------


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written recursively as the RFC states it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return hashlib.sha256(
        b"\x01" + reference_root(leaves[:split]) + reference_root(leaves[split:])
    ).digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def test_empty_root() -> None:
    assert merkle_root([]) == EMPTY_HASH == hashlib.sha256(b"").digest()


def test_single_leaf_root_is_its_leaf_hash() -> None:
    assert merkle_root([b"tx"]) == leaf_hash(b"tx")
    assert merkle_root([b"tx"]) != hashlib.sha256(b"tx").digest()


def test_two_leaves() -> None:
    expected = hashlib.sha256(b"\x01" + leaf_hash(b"a") + leaf_hash(b"b")).digest()
    assert merkle_root([b"a", b"b"]) == expected


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.binary(max_size=8), max_size=40))
def test_merkle_root_matches_rfc_6962(leaves: list[bytes]) -> None:
    assert merkle_root(leaves) == reference_root(leaves)


@pytest.mark.parametrize("count", [3, 5, 6, 7, 9, 11])
def test_odd_counts_do_not_duplicate_the_last_leaf(count: int) -> None:
    leaves = [bytes([i]) for i in range(count)]
    assert merkle_root(leaves) == reference_root(leaves)
    assert merkle_root(leaves) != merkle_root(leaves + leaves[-1:])  # CVE-2012-2459


def test_order_matters() -> None:
    assert merkle_root([b"a", b"b"]) != merkle_root([b"b", b"a"])
    assert merkle_root([b"a", b"b", b"c"]) != merkle_root([b"a", b"c", b"b"])


def test_leaves_and_nodes_are_domain_separated() -> None:
    # A leaf whose content is the concatenation of two leaf hashes must not
    # collide with the two-leaf tree (second-preimage resistance).
    forged = leaf_hash(b"a") + leaf_hash(b"b")
    assert merkle_root([forged]) != merkle_root([b"a", b"b"])
    assert merkle_root([b"\x01" + forged]) != merkle_root([b"a", b"b"])
    inner = hashlib.sha256(b"\x01" + leaf_hash(b"a") + leaf_hash(b"b")).digest()
    assert merkle_root([b"a", b"b"]) == inner
    assert merkle_root([inner]) != inner
