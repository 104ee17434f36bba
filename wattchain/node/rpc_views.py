"""JSON shapes of blocks, transactions and results for RPC answers."""

from __future__ import annotations

import base64
from typing import Any

from wattchain.crypto import format_address
from wattchain.errors import DecodeError
from wattchain.types import Block, Commit, SignedTx
from wattchain.vm.execution import TxResult


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def json_value(value: Any) -> Any:
    """Canonical values (bytes, lists) as JSON: bytes become 0x-hex strings."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list):
        return [json_value(item) for item in value]
    return value


def commit_json(commit: Commit | None) -> dict[str, Any] | None:
    if commit is None:
        return None
    return {
        "height": commit.height,
        "round": commit.round,
        "block_hash": commit.block_hash.hex(),
        "signatures": [
            {"validator": format_address(s.validator), "timestamp_ms": s.timestamp_ms,
             "signature": s.signature.hex()}
            for s in commit.signatures
        ],
    }


def header_json(block: Block) -> dict[str, Any]:
    header = block.header
    return {
        "chain_id": header.chain_id,
        "height": header.height,
        "time_ms": header.time_ms,
        "proposer": format_address(header.proposer),
        "prev_block_hash": header.prev_block_hash.hex(),
        "tx_root": header.tx_root.hex(),
        "app_hash": header.app_hash.hex(),
        "validators_hash": header.validators_hash.hex(),
        "last_commit_hash": header.last_commit_hash.hex(),
    }


def block_json(block: Block) -> dict[str, Any]:
    return {
        "header": header_json(block),
        "txs": [b64(raw) for raw in block.txs],
        "last_commit": commit_json(block.last_commit),
        "evidence": [e.hex() for e in block.evidence],
    }


def decoded_tx_json(raw: bytes) -> dict[str, Any] | None:
    try:
        stx = SignedTx.decode(raw, max_bytes=len(raw))
    except DecodeError:
        return None
    tx = stx.tx
    return {
        "chain_id": tx.chain_id,
        "sender": format_address(tx.sender),
        "nonce": tx.nonce,
        "fee": tx.fee,
        "module": tx.module,
        "method": tx.method,
        "args": json_value(tx.args),
        "valid_until_height": tx.valid_until_height,
        "signature": stx.signature.hex(),
    }


def result_json(result: TxResult) -> dict[str, Any]:
    return {"code": result.code, "codespace": result.codespace, "log": result.log,
            "fee": result.fee, "events": [e.to_json() for e in result.events]}


def tx_json(tx_id: bytes, raw: bytes, height: int, index: int,
            result: TxResult) -> dict[str, Any]:
    return {
        "hash": tx_id.hex(),
        "height": height,
        "index": index,
        "tx_result": result_json(result),
        "tx": b64(raw),
        "decoded": decoded_tx_json(raw),
    }
