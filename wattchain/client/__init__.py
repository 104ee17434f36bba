"""The WattChain client library: what an app, a utility's back office, the
CLI and the demo use to talk to a chain.

* ``RpcClient`` / ``AsyncRpcClient``: JSON-RPC to a node (``call``, ``query``,
  ``broadcast``, ``status``).
* ``TxBuilder``, ``sign_tx``, ``broadcast_tx``, ``send_tx``, ``TxOutcome``:
  build a tx with the chain id, the sender's nonce and a fee, sign it locally,
  broadcast it and read its outcome and events.
* ``Keyring``: named secp256k1 keys on disk (encrypted, or plain for tests).
* ``MeterGateway``: relay a meter's signed readings in batches, resuming
  where the chain stopped; ``plan_intervals`` / ``plan_registers`` plan them
  from ``load_green_button`` / ``load_obis_csv`` files or a ``SimulatedMeter``.
* ``OracleFeeder``: submit oracle feed values from files or a seeded source.
* ``wattchain.client.reports``: recompute a bill, load reports.

It imports the primitives and the modules' pure functions, never the CLI,
the node or the simulator. Every failure is a ``ClientError`` (codespace
``client``) with a message a person can act on.

Example (a running devnet; ``wattchain node init`` made the ``faucet`` key)::

    from wattchain.client import Keyring, RpcClient, send_tx

    keyring = Keyring(home / "keyring", backend="test")
    faucet = keyring.get("faucet")
    bob = keyring.add("bob")[0].address
    with RpcClient("http://127.0.0.1:26657") as client:
        outcome = send_tx(client, faucet, "accounts", "transfer", [bob, 1_000_000])
        outcome.raise_for_failure()
        balance = client.query("accounts/balance", address="0x" + bob.hex())["balance"]
"""

from __future__ import annotations

from wattchain.client.errors import ClientError, NodeUnavailable, RpcCallError, TxRefused
from wattchain.client.gateway import (
    MeterGateway,
    check_meter_key,
    meter_state,
    plan_intervals,
    plan_registers,
)
from wattchain.client.keyring import KeyExists, KeyInfo, KeyNotFound, Keyring, KeyringError
from wattchain.client.meter_formats import (
    FormatError,
    IntervalValue,
    MeterReading,
    load_green_button,
    load_obis_csv,
    parse_green_button,
    parse_obis_csv,
)
from wattchain.client.oracle_feeder import FeedValue, OracleFeeder, read_csv, read_json
from wattchain.client.rpc import AsyncRpcClient, RpcClient
from wattchain.client.simulated_meters import PROFILES, SimulatedMeter
from wattchain.client.tx import (
    TxBuilder,
    TxFailed,
    TxOutcome,
    broadcast_tx,
    send_tx,
    sign_tx,
)

__all__ = [
    "PROFILES",
    "AsyncRpcClient",
    "ClientError",
    "FeedValue",
    "FormatError",
    "IntervalValue",
    "KeyExists",
    "KeyInfo",
    "KeyNotFound",
    "Keyring",
    "KeyringError",
    "MeterGateway",
    "MeterReading",
    "NodeUnavailable",
    "OracleFeeder",
    "RpcCallError",
    "RpcClient",
    "SimulatedMeter",
    "TxBuilder",
    "TxFailed",
    "TxOutcome",
    "TxRefused",
    "broadcast_tx",
    "check_meter_key",
    "load_green_button",
    "load_obis_csv",
    "meter_state",
    "parse_green_button",
    "parse_obis_csv",
    "plan_intervals",
    "plan_registers",
    "read_csv",
    "read_json",
    "send_tx",
    "sign_tx",
]
