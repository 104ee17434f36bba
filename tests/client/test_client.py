"""The client library against the real vm: an in-process fake node answers the
client's JSON-RPC over an httpx transport with a ``chain_helpers`` chain, so
what the client builds and signs is validated and executed by the vm itself.
"""

from __future__ import annotations

import base64
import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from chain_helpers import ALICE, BOB, CHAIN_ID, FAUCET, MIN_FEE, Chain, make_chain, next_block_info
from chain_helpers import account as account_of
from chain_helpers import run_block as run_chain_block
from metering_helpers import GATEWAY, METER_KEYS, T0, add_meter, met_chain
from process_helpers import NodeProcess

from wattchain.client import (
    ClientError,
    IntervalValue,
    Keyring,
    MeterGateway,
    NodeUnavailable,
    RpcCallError,
    RpcClient,
    TxBuilder,
    TxFailed,
    TxRefused,
    plan_intervals,
    send_tx,
    sign_tx,
)
from wattchain.client.governance import proposal_call
from wattchain.crypto import PrivateKey
from wattchain.errors import WattchainError
from wattchain.modules.accounts.actions import describe_action
from wattchain.types import SignedTx
from wattchain.vm.params import load_params

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "client_transfer.py"


class FakeNode:
    """Just enough of a node's JSON-RPC for the client: status, abci_query and
    broadcast_tx_sync/commit (a commit runs one block with the tx)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.blocks = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> RpcClient:
        return RpcClient("http://fake-node", transport=self.transport())

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        try:
            result = getattr(self, body["method"])(**body["params"])
            answer = {"jsonrpc": "2.0", "id": body["id"], "result": result}
        except AttributeError:
            answer = {"jsonrpc": "2.0", "id": body["id"],
                      "error": {"code": -32601, "message": "Method not found"}}
        return httpx.Response(200, json=answer)

    def status(self) -> dict[str, Any]:
        return {"node_info": {"network": self.chain.genesis.chain_id},
                "sync_info": {"latest_block_time_ms": self.chain.time_ms,
                              "latest_block_height": self.chain.height}}

    def abci_query(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        try:
            value = self.chain.vm.query(self.chain.state, path, data)
        except WattchainError as exc:
            return {"response": {"code": exc.code, "log": exc.message, "value": None}}
        return {"response": {"code": 0, "log": "", "value": json.loads(json.dumps(value))}}

    def check(self, stx: SignedTx) -> dict[str, Any]:
        try:
            self.chain.vm.validate_tx(self.chain.state, stx, next_block_info(self.chain),
                                      load_params(self.chain.state), verified=False)
        except WattchainError as exc:
            return {"code": exc.code, "codespace": exc.codespace, "log": exc.message}
        return {"code": 0, "codespace": "", "log": ""}

    def broadcast_tx_sync(self, tx: str) -> dict[str, Any]:
        return {**self.check(SignedTx.decode(base64.b64decode(tx))), "hash": "00"}

    def broadcast_tx_commit(self, tx: str) -> dict[str, Any]:
        stx = SignedTx.decode(base64.b64decode(tx))
        check = self.check(stx)
        if check["code"]:
            return {"check_tx": check, "tx_result": None, "height": 0}
        (result,) = run_chain_block(self.chain, [stx]).tx_results
        self.blocks += 1
        return {"check_tx": check, "height": self.chain.height, "hash": stx.tx_id.hex(),
                "tx_result": {"code": result.code, "codespace": result.codespace,
                              "log": result.log, "events": [e.to_json()
                                                            for e in result.events]}}


@pytest.fixture
def node() -> FakeNode:
    return FakeNode(make_chain())


def test_the_builder_fills_chain_id_nonce_and_fee_and_the_vm_accepts_the_signed_tx(
        node: FakeNode) -> None:
    with node.client() as client:
        builder = TxBuilder(client)
        tx = builder.build(ALICE.address, "accounts", "transfer", [BOB.address, 10])
        assert (tx.chain_id, tx.sender, tx.nonce, tx.fee) == (CHAIN_ID, ALICE.address, 0,
                                                              MIN_FEE)
        stx = sign_tx(tx, ALICE)
        assert node.check(SignedTx.decode(stx.raw))["code"] == 0  # signature and nonce hold
        outcome = send_tx(client, ALICE, "accounts", "transfer", [BOB.address, 10])
        outcome.raise_for_failure()
        assert outcome.ok and outcome.height == 1
        assert outcome.events("transfer")[0]["amount"] == "10"
        assert builder.build(ALICE.address, "accounts", "burn", [1]).nonce == 1
    assert account_of(node.chain, BOB)["balance"] == 510


def test_a_refused_and_a_failed_tx_raise_with_the_node_s_reason(node: FakeNode) -> None:
    with node.client() as client:
        refused = send_tx(client, ALICE, "accounts", "transfer", [BOB.address, 1], fee=1)
        assert refused.refused and not refused.ok
        with pytest.raises(TxRefused, match="the node refused the tx .vm code .*below the "):
            refused.raise_for_failure()
        failed = send_tx(client, ALICE, "accounts", "transfer", [BOB.address, 10**9])
        assert failed.failed and failed.height == 1
        with pytest.raises(TxFailed, match="block 1 .accounts code 101.: balance 990 is less"):
            failed.raise_for_failure()
        unsent = send_tx(client, ALICE, "accounts", "transfer", [BOB.address, 1], wait=False)
        assert unsent.ok and unsent.result is None and not unsent.committed


def test_rpc_errors_are_client_errors(node: FakeNode) -> None:
    with node.client() as client:
        with pytest.raises(RpcCallError) as caught:
            client.call("no_such_method")
        assert caught.value.rpc_code == -32601
        with pytest.raises(RpcCallError, match="unknown query path"):
            client.query("accounts/nope")
        assert client.chain_id() == CHAIN_ID
    with RpcClient("http://127.0.0.1:9", timeout=2.0) as client, \
            pytest.raises(NodeUnavailable, match="cannot reach a node"):
        client.status()
    assert issubclass(NodeUnavailable, ClientError) and ClientError.codespace == "client"


def test_the_gateway_relays_in_batches_and_resumes_where_the_chain_stopped() -> None:
    chain = met_chain()
    add_meter(chain, "M1")
    fake = FakeNode(chain)
    intervals = [IntervalValue(T0 + index * 900_000, 900_000, 100 + index, 0)
                 for index in range(7)]
    batches: list[int] = []
    with fake.client() as client:
        gateway = MeterGateway(client, GATEWAY)
        readings = plan_intervals(intervals[:4], gateway.meter("M1"))
        assert [r.seq for r in readings] == [1, 2, 3, 4, 5]  # a baseline, then 4 intervals
        summary = gateway.relay("M1", METER_KEYS["M1"], readings, 2, batches.append)
        assert (summary["accepted"], summary["rejected"], len(summary["txs"])) == (5, 0, 3)
        assert batches == [2, 2, 1]
        meter = gateway.meter("M1")
        rest = plan_intervals(intervals, meter)  # the whole file again: only what is new
        assert [r.seq for r in rest] == [6, 7, 8]
        assert rest[0].import_wh == meter["import_wh"] + intervals[4].import_wh
        assert gateway.relay("M1", METER_KEYS["M1"], rest, 10)["accepted"] == 3
        with pytest.raises(ClientError, match="--batch must be 1.."):
            gateway.relay("M1", METER_KEYS["M1"], rest, 10**6)
        assert gateway.relay("M1", METER_KEYS["M1"], [], 1)["submitted"] == 0


def test_a_proposal_s_view_gives_back_the_tx_that_approves_it() -> None:
    validator = PrivateKey(b"\x62" * 32).public_key
    for action in (["grant_role", ALICE.address, "dso"], ["revoke_role", BOB.address, "oracle"],
                   ["set_validator", validator, 3, "v3"]):
        module, method, args = proposal_call({"id": "0x01", **describe_action(action)})
        assert (method, args) == (action[0], action[1:])
        assert module == ("chain" if method == "set_validator" else "accounts")
    with pytest.raises(ClientError, match="does not know"):
        proposal_call({"id": "0x02", "action": "mystery"})


def load_example() -> Any:
    return runpy.run_path(str(EXAMPLE))


def test_the_python_example_sends_a_transfer_and_reads_the_balance(node: FakeNode,
                                                                  tmp_path: Path) -> None:
    keyring_dir = tmp_path / "keyring"
    Keyring(keyring_dir, backend="test").import_key("faucet", FAUCET.secret)
    with node.client() as client:
        balance = load_example()["transfer_and_check"](client, keyring_dir, "bob", 1_000_000)
    assert balance == 1_000_000
    bob = Keyring(keyring_dir, backend="test").info("bob").address
    assert account_of(node.chain, bob)["balance"] == 1_000_000


@pytest.mark.slow
def test_the_python_example_runs_against_a_devnet_node(node_process: NodeProcess) -> None:
    run = subprocess.run([sys.executable, str(EXAMPLE), str(node_process.home),
                          node_process.url], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "1000000"
