"""The JSON-RPC methods. Each takes named params and returns a JSON value.

They see the node only through its ``RpcPort``; a bad param raises an
``RpcError`` with the JSON-RPC code the client gets.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from wattchain import __version__
from wattchain.crypto import format_address, parse_address
from wattchain.errors import WattchainError
from wattchain.hashing import sha256
from wattchain.node import store as store_keys
from wattchain.node.events import Query, QueryError
from wattchain.node.mempool import DuplicateTx
from wattchain.node.ports import RpcPort
from wattchain.node.rpc_errors import (
    INVALID_PARAMS,
    NOT_FOUND,
    SERVER_ERROR,
    TIMEOUT,
    RpcError,
    invalid_params,
)
from wattchain.node.rpc_json import parse_int_text
from wattchain.node.rpc_subscriptions import WebsocketConnection, handle_subscription
from wattchain.node.rpc_views import block_json, commit_json, header_json, result_json, tx_json
from wattchain.vm.errors import QueryError as VmQueryError
from wattchain.vm.errors import TxError

MAX_PER_PAGE = 100
MAX_BLOCKCHAIN_RANGE = 20
MAX_SEARCH_SCAN = 100_000


def param_int(params: dict[str, Any], name: str, default: int | None = None,
              minimum: int = 0) -> int:
    value = params.get(name, default)
    if isinstance(value, str):
        value = parse_int_text(value)
    if type(value) is not int or value < minimum:
        raise invalid_params(f"{name} must be an integer >= {minimum}")
    return value


def param_str(params: dict[str, Any], name: str, default: str | None = None) -> str:
    value = params.get(name, default)
    if not isinstance(value, str):
        raise invalid_params(f"{name} must be a string")
    return value


def param_hash(params: dict[str, Any], name: str = "hash") -> bytes:
    text = param_str(params, name).removeprefix("0x").removeprefix("0X")
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise invalid_params(f"{name} must be 32 bytes in hex") from None
    if len(value) != 32:
        raise invalid_params(f"{name} must be 32 bytes in hex")
    return value


def param_tx(params: dict[str, Any]) -> bytes:
    text = param_str(params, "tx")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_params("tx must be the signed transaction in base64") from None


def check_result(tx_id: bytes, error: WattchainError | None) -> dict[str, Any]:
    if error is None:
        return {"code": 0, "codespace": "", "log": "", "hash": tx_id.hex()}
    return {"code": error.code, "codespace": error.codespace, "log": error.message,
            "hash": tx_id.hex()}


class RpcMethods:
    """The method table, answering from ``node``."""

    def __init__(self, node: RpcPort) -> None:
        self.node = node
        self.table: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "status": self.status,
            "health": self.health,
            "net_info": self.net_info,
            "genesis": self.genesis,
            "block": self.block,
            "block_results": self.block_results,
            "blockchain": self.blockchain,
            "commit": self.commit,
            "validators": self.validators,
            "tx": self.tx,
            "tx_search": self.tx_search,
            "num_unconfirmed_txs": self.num_unconfirmed_txs,
            "broadcast_tx_async": self.broadcast_tx_async,
            "broadcast_tx_sync": self.broadcast_tx_sync,
            "broadcast_tx_commit": self.broadcast_tx_commit,
            "abci_query": self.abci_query,
        }
        self.websocket_only = {"subscribe", "unsubscribe", "unsubscribe_all"}

    def exists(self, method: str) -> bool:
        return method in self.table or method in self.websocket_only

    def names(self) -> list[str]:
        return sorted([*self.table, *self.websocket_only])

    async def call(self, method: str, params: dict[str, Any],
                   websocket: WebsocketConnection | None, request_id: Any) -> Any:
        """Run a known ``method`` (see ``exists``); subscriptions need a websocket."""
        if method in self.websocket_only:
            if websocket is None:
                raise RpcError(SERVER_ERROR, "Websocket only",
                               f"{method} is available only over the /websocket endpoint")
            return await handle_subscription(self.node.bus, self.node.rpc_config.max_subscriptions,
                                             method, params, websocket, request_id)
        return await self.table[method](params)

    # -- info ------------------------------------------------------------------

    async def status(self, params: dict[str, Any]) -> dict[str, Any]:
        node = self.node
        tip = node.tip()
        identity = node.identity
        power = sum(v.power for v in node.validators() if v.address == identity.address)
        return {
            "node_info": {"moniker": identity.moniker, "network": node.genesis.chain_id,
                          "version": __version__, "rpc": node.rpc_urls},
            "sync_info": {
                "latest_block_height": tip.height,
                "latest_block_hash": tip.block_hash.hex(),
                "latest_app_hash": tip.app_hash.hex(),
                "latest_block_time_ms": tip.time_ms,
                "earliest_block_height": node.genesis.initial_height,
                "catching_up": self._catching_up(tip.height),
            },
            "consensus": self._consensus_state(),
            "peers": len(node.peers()),
            "validator_info": {"address": format_address(identity.address),
                               "public_key": identity.public_key.hex(), "voting_power": power},
            "mempool": {"size": len(node.mempool), "bytes": node.mempool.size_bytes},
        }

    def _catching_up(self, height: int) -> bool:
        peer_heights = self.node.peer_heights()
        return bool(peer_heights) and max(peer_heights.values()) > height + 1

    def _consensus_state(self) -> dict[str, Any]:
        state = self.node.consensus_state()
        validators = self.node.validators()
        return {
            "height": state.height,
            "round": state.round,
            "step": state.step,
            "validators": len(validators),
            "total_power": sum(v.power for v in validators),
            "mode": self.node.identity.mode,
        }

    async def health(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    async def net_info(self, params: dict[str, Any]) -> dict[str, Any]:
        peers = self.node.peers()
        heights = self.node.peer_heights()
        return {"listening": True, "listeners": self.node.rpc_urls,
                "p2p": self.node.p2p_addresses(), "n_peers": len(peers),
                "peers": [{"id": peer, "height": heights.get(peer)} for peer in peers]}

    async def genesis(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"genesis": self.node.genesis.to_json()}

    async def validators(self, params: dict[str, Any]) -> dict[str, Any]:
        validators = [v.to_json() for v in self.node.validators()]
        return {"block_height": self.node.tip().height, "validators": validators,
                "count": len(validators), "total": len(validators)}

    async def num_unconfirmed_txs(self, params: dict[str, Any]) -> dict[str, Any]:
        mempool = self.node.mempool
        return {"n_txs": len(mempool), "total": len(mempool), "total_bytes": mempool.size_bytes}

    # -- blocks ----------------------------------------------------------------

    def _height(self, params: dict[str, Any]) -> int:
        """The committed height a request names (default: the latest)."""
        latest = self.node.tip().height
        first = self.node.genesis.initial_height
        if "height" not in params and latest < first:
            raise RpcError(NOT_FOUND, "Not found", "no block has been committed yet")
        height = param_int(params, "height", latest, minimum=1)
        if height > latest:
            raise invalid_params(f"height {height} is above the latest height {latest}")
        if height < first:
            raise RpcError(NOT_FOUND, "Not found", f"no block at height {height}")
        return height

    async def block(self, params: dict[str, Any]) -> dict[str, Any]:
        if "hash" in params:
            found = self.node.blocks.height_of(param_hash(params))
            if found is None:
                raise RpcError(NOT_FOUND, "Not found", "no block with that hash")
            height = found
        else:
            height = self._height(params)
        block = self.node.blocks.block(height)
        if block is None:
            raise RpcError(NOT_FOUND, "Not found", f"no block at height {height}")
        return {"block_id": {"hash": block.hash().hex()}, "block": block_json(block)}

    async def block_results(self, params: dict[str, Any]) -> dict[str, Any]:
        height = self._height(params)
        stored = self.node.blocks.results(height)
        if stored is None:
            raise RpcError(NOT_FOUND, "Not found", f"no results at height {height}")
        tx_results, events = stored
        app_hash = self.node.blocks.app_hash(height)
        return {"height": height, "txs_results": [result_json(r) for r in tx_results],
                "end_block_events": [e.to_json() for e in events],
                "app_hash": app_hash.hex() if app_hash else None}

    async def commit(self, params: dict[str, Any]) -> dict[str, Any]:
        height = self._height(params)
        block = self.node.blocks.block(height)
        commit = self.node.blocks.commit(height)
        if block is None or commit is None:
            raise RpcError(NOT_FOUND, "Not found", f"no commit at height {height}")
        return {"signed_header": {"header": header_json(block), "commit": commit_json(commit)},
                "canonical": True}

    async def blockchain(self, params: dict[str, Any]) -> dict[str, Any]:
        latest = self.node.tip().height
        first = self.node.genesis.initial_height
        # max(.., 1): before the first block the default must still be a valid height
        max_height = min(param_int(params, "max_height", max(latest, 1), minimum=1), latest)
        min_height = max(param_int(params, "min_height", first, minimum=1), first,
                         max_height - MAX_BLOCKCHAIN_RANGE + 1)
        if min_height > max_height and latest >= first:
            raise invalid_params("min_height must not exceed max_height")
        metas = []
        for height in range(max_height, min_height - 1, -1):
            block = self.node.blocks.block(height)
            if block is None:
                continue
            metas.append({"block_id": {"hash": block.hash().hex()},
                          "header": header_json(block), "num_txs": len(block.txs)})
        return {"last_height": latest, "block_metas": metas}

    # -- transactions ------------------------------------------------------------

    def _load_tx(self, tx_id: bytes) -> dict[str, Any] | None:
        store = self.node.blocks
        position = store.tx_position(tx_id)
        if position is None:
            return None
        height, index = position
        block = store.block(height)
        results = store.results(height)
        if block is None or results is None:
            return None
        return tx_json(tx_id, block.txs[index], height, index, results[0][index])

    async def tx(self, params: dict[str, Any]) -> dict[str, Any]:
        tx_id = param_hash(params)
        found = self._load_tx(tx_id)
        if found is None:
            pending = tx_id in self.node.mempool
            detail = "it is in the mempool, not yet in a block" if pending else "unknown tx"
            raise RpcError(NOT_FOUND, "Not found", f"tx {tx_id.hex()} not found: {detail}")
        return found

    async def tx_search(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            query = Query.parse(param_str(params, "query"))
        except QueryError as exc:
            raise invalid_params(str(exc)) from None
        page = param_int(params, "page", 1, minimum=1)
        per_page = min(param_int(params, "per_page", 30, minimum=1), MAX_PER_PAGE)
        order = param_str(params, "order_by", "asc")
        if order not in ("asc", "desc"):
            raise invalid_params("order_by must be \"asc\" or \"desc\"")
        matches = [tx for tx in self._candidates(query) if self._matches(query, tx)]
        if order == "desc":
            matches.reverse()
        start = (page - 1) * per_page
        return {"txs": matches[start:start + per_page], "total_count": len(matches)}

    def _candidates(self, query: Query) -> list[dict[str, Any]]:
        prefix = self._index_prefix(query)
        tx_ids, _ = self.node.blocks.search_txs(prefix, MAX_SEARCH_SCAN)
        found = (self._load_tx(tx_id) for tx_id in tx_ids)
        return [tx for tx in found if tx is not None]

    def _index_prefix(self, query: Query) -> bytes:
        sender = query.equal_value("tx.sender")
        if sender is not None:
            try:
                return store_keys.sender_index(parse_address(sender))
            except ValueError as exc:
                raise invalid_params(str(exc)) from None
        module = query.equal_value("tx.module")
        if module is not None:
            return store_keys.module_index(module)
        for condition in query.conditions:
            if condition.key.count(".") == 2 and condition.operator == "=":
                return store_keys.attribute_index(f"{condition.key}={condition.value}")
        raise RpcError(INVALID_PARAMS, "Invalid params",
                       "tx_search needs an indexed condition: tx.sender='0x..', "
                       "tx.module='name' or module.kind.attribute='value'")

    def _matches(self, query: Query, tx: dict[str, Any]) -> bool:
        decoded = tx["decoded"]
        tags: dict[str, list[str]] = {
            "tm.event": ["Tx"], "tx.hash": [tx["hash"]], "tx.height": [str(tx["height"])],
            "tx.code": [str(tx["tx_result"]["code"])],
        }
        if decoded is not None:
            tags.update({"tx.sender": [decoded["sender"]], "tx.module": [decoded["module"]],
                         "tx.method": [decoded["method"]]})
        for event in tx["tx_result"]["events"]:
            for key, value in event["attributes"].items():
                tags.setdefault(f"{event['module']}.{event['kind']}.{key}", []).append(value)
        return query.matches(tags)

    async def broadcast_tx_async(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self.broadcast_tx_sync(params)

    async def broadcast_tx_sync(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = param_tx(params)
        try:
            tx_id = self.node.submit_tx(raw)
        except TxError as error:
            return check_result(sha256(raw), error)
        return check_result(tx_id, None)

    async def broadcast_tx_commit(self, params: dict[str, Any]) -> dict[str, Any]:
        """Submit and wait for the block. Resubmitting a tx that is already in the
        mempool is not an error: the call waits for it like the first one."""
        check = await self.broadcast_tx_sync(params)
        tx_id = bytes.fromhex(check["hash"])
        already_pending = check["code"] == DuplicateTx.code and check["codespace"] == "mempool"
        if already_pending:
            check = check_result(tx_id, None)
        if check["code"] != 0:
            return {"check_tx": check, "tx_result": None, "hash": check["hash"], "height": 0}
        timeout = self.node.rpc_config.commit_timeout_ms / 1000
        inclusion = await self.node.wait_for_commit(tx_id, timeout)
        if inclusion is None:
            raise RpcError(TIMEOUT, "Timed out waiting for the tx to be committed",
                           {"hash": tx_id.hex(), "timeout_ms": int(timeout * 1000)})
        return {"check_tx": check, "tx_result": result_json(inclusion.result),
                "hash": tx_id.hex(), "height": inclusion.height, "index": inclusion.index}

    # -- state queries ----------------------------------------------------------------

    async def abci_query(self, params: dict[str, Any]) -> dict[str, Any]:
        path = param_str(params, "path").strip("/")
        data = params.get("data", {})
        if data in ("", None):
            data = {}
        if not isinstance(data, dict):
            raise invalid_params("data must be an object of named query arguments")
        latest = self.node.tip().height
        if "height" in params and param_int(params, "height") not in (0, latest):
            raise invalid_params("only the latest height can be queried (height 0 or omitted)")
        try:
            value = self.node.query(path, data)
        except VmQueryError as exc:
            return {"response": {"code": exc.code, "codespace": exc.codespace,
                                 "log": exc.message, "value": None, "height": latest}}
        return {"response": {"code": 0, "codespace": "", "log": "", "value": value,
                             "height": latest}}
