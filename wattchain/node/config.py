"""Node configuration (config.toml) and the files of a node's home directory.

Network settings (ports, limits, timings) live here; protocol parameters
live in genesis. Layout of a home directory::

    config/config.toml  config/genesis.json  config/validator_key.json
    config/node_key.json  data/chain.db  data/sign_state.json  data/consensus.wal
    keyring/  logs/  node.pid
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from wattchain.consensus.driver import TimeoutConfig
from wattchain.crypto import PrivateKey, format_address, parse_address
from wattchain.node.mempool import MempoolLimits


class ConfigError(ValueError):
    """A config file that is missing or wrong; the message says what to fix."""


@dataclass
class RpcConfig:
    host: str = "127.0.0.1"
    port: int = 26657
    max_body_bytes: int = 1_000_000
    max_batch: int = 100
    rate_limit_per_second: int = 1_000  # HTTP requests per client address
    commit_timeout_ms: int = 10_000  # broadcast_tx_commit waits this long
    max_subscriptions: int = 100  # per websocket connection
    # Limits against hostile clients (README, JSON-RPC, Limits)
    header_timeout_s: int = 10  # a connection must send a complete request head within this
    body_timeout_s: int = 10  # ... and then its body within this
    max_connections: int = 400  # open HTTP/websocket connections, in total
    max_connections_per_client: int = 50  # ... and per client address
    max_websocket_message_bytes: int = 1_000_000
    websocket_idle_timeout_s: int = 300  # closed when no message and no subscription this long
    websocket_send_queue: int = 1_000  # messages queued for a slow reader before it is dropped
    # Admission of txs (README, JSON-RPC, Server busy): txs being checked or awaited
    max_inflight_txs_per_client: int = 1_000
    max_inflight_txs: int = 10_000  # ... over all clients
    busy_retry_after_ms: int = 250  # what a busy refusal tells the client to wait (~a block)


@dataclass
class ProducerConfig:
    min_block_interval_ms: int = 200  # a block at most this often while txs wait
    empty_block_interval_ms: int = 2_000  # a heartbeat block when nothing happens


@dataclass
class MempoolConfig:
    """Limits of the pool of pending txs (see ``node/mempool.py``).

    A full pool evicts its weakest txs for a stronger one: stuck (behind a
    nonce gap) before runnable, then lowest fee, then deepest in its sender's
    queue. ``sender_limits`` maps an address ("0x..") to its own queue limit,
    for gateways that relay many readings; their nonce gap grows to match.
    """

    max_txs: int = 50_000
    max_bytes: int = 64 * 1024 * 1024
    max_queued_per_sender: int = 16  # txs a sender may hold ahead of its account nonce
    # A nonce this far or further ahead of the account nonce is refused (exclusive):
    # 17 admits the next nonce plus the 16 queued ones.
    max_nonce_gap: int = 17
    max_stuck_heights: int = 10  # txs behind a nonce gap open this many heights are evicted
    sender_limits: dict[str, int] = field(default_factory=dict)  # "0x..address" = limit
    verify_threads: int = 0  # threads verifying a batch's signatures; 0: one per core

    def __post_init__(self) -> None:
        for name in ("max_queued_per_sender", "max_nonce_gap", "max_stuck_heights"):
            if getattr(self, name) < 1:
                raise ConfigError(f"[mempool] {name} must be at least 1")
        self.limits_by_address()  # refuses a bad address or limit now, not at start

    def limits_by_address(self) -> dict[bytes, int]:
        limits = {}
        for text, limit in self.sender_limits.items():
            try:
                address = parse_address(text)
            except ValueError as exc:
                raise ConfigError(f"[mempool.sender_limits] {text!r}: {exc}") from None
            if type(limit) is not int or limit < 0:
                raise ConfigError(f"[mempool.sender_limits] {text!r} must be a "
                                  "non-negative integer")
            limits[address] = limit
        return limits

    def limits(self, cores: int) -> MempoolLimits:
        """These settings as the mempool takes them; ``cores`` verify threads
        when ``verify_threads`` is 0."""
        return MempoolLimits(
            max_txs=self.max_txs, max_bytes=self.max_bytes, max_nonce_gap=self.max_nonce_gap,
            verify_threads=self.verify_threads or cores,
            max_queued_per_sender=self.max_queued_per_sender,
            sender_limits=self.limits_by_address(), max_stuck_heights=self.max_stuck_heights)


# The queue limit `node init` and `testnet init` give the faucet, which funds
# many accounts in a row (as a gateway relays many readings).
FAUCET_QUEUE_LIMIT = 10_000


@dataclass
class P2PConfig:
    enabled: bool = False  # a single-validator devnet needs no network
    host: str = "127.0.0.1"
    port: int = 26656
    persistent_peers: list[str] = field(default_factory=list)  # /ip4/../tcp/../p2p/<id>


@dataclass
class ConsensusConfig:
    """Round timeouts (ms); each grows by its delta per round."""

    # waiting for the round's proposal
    timeout_propose_ms: int = 3_000
    timeout_propose_delta_ms: int = 500
    # after +2/3 of the prevotes (precommits), for any values: waiting for the rest
    timeout_prevote_ms: int = 1_000
    timeout_prevote_delta_ms: int = 500
    timeout_precommit_ms: int = 1_000
    timeout_precommit_delta_ms: int = 500

    def timeouts(self) -> TimeoutConfig:
        """These settings as the consensus driver takes them."""
        return TimeoutConfig(self.timeout_propose_ms, self.timeout_propose_delta_ms,
                             self.timeout_prevote_ms, self.timeout_prevote_delta_ms,
                             self.timeout_precommit_ms, self.timeout_precommit_delta_ms)


@dataclass
class NodeConfig:
    moniker: str = "node"
    log_level: str = "INFO"
    mode: str = "validator"  # or "observer": follows the chain, never votes
    rpc: RpcConfig = field(default_factory=RpcConfig)
    producer: ProducerConfig = field(default_factory=ProducerConfig)
    mempool: MempoolConfig = field(default_factory=MempoolConfig)
    p2p: P2PConfig = field(default_factory=P2PConfig)
    consensus: ConsensusConfig = field(default_factory=ConsensusConfig)

    def to_toml(self) -> str:
        return tomli_w.dumps(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeConfig:
        sections = {"rpc": RpcConfig, "producer": ProducerConfig, "mempool": MempoolConfig,
                    "p2p": P2PConfig, "consensus": ConsensusConfig}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in sections:
                values[key] = _section(sections[key], key, value)
            elif key in ("moniker", "log_level", "mode"):
                values[key] = str(value)
            else:
                raise ConfigError(f"unknown config key {key!r}")
        if values.get("mode", "validator") not in ("validator", "observer"):
            raise ConfigError("mode must be \"validator\" or \"observer\"")
        return cls(**values)


def _section(kind: type, name: str, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"[{name}] must be a table")
    allowed = {f.name: f.type for f in fields(kind)}
    for key, value in data.items():
        if key not in allowed:
            raise ConfigError(f"unknown key {key!r} in [{name}]")
        kind_name = str(allowed[key])
        expected: type = {"str": str, "bool": bool}.get(kind_name, int)
        if kind_name.startswith("dict"):
            if not isinstance(value, dict):
                raise ConfigError(f"[{name}] {key} must be a table")
            continue
        if kind_name.startswith("list"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"[{name}] {key} must be a list of strings")
            continue
        if type(value) is not expected:
            raise ConfigError(f"[{name}] {key} must be a {expected.__name__}")
    return kind(**data)


class Home:
    """Paths inside a node's home directory (the layout above)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.config_dir = self.root / "config"
        self.config_file = self.config_dir / "config.toml"
        self.genesis_file = self.config_dir / "genesis.json"
        self.validator_key_file = self.config_dir / "validator_key.json"
        self.node_key_file = self.config_dir / "node_key.json"
        self.db_path = self.root / "data" / "chain.db"
        self.sign_state_file = self.root / "data" / "sign_state.json"
        self.wal_file = self.root / "data" / "consensus.wal"
        self.keyring_dir = self.root / "keyring"
        self.pid_file = self.root / "node.pid"

    def load_config(self) -> NodeConfig:
        try:
            data = tomllib.loads(self.config_file.read_text())
        except FileNotFoundError:
            raise ConfigError(f"no config at {self.config_file}; run `wattchain node init "
                              f"--home {self.root}` first") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{self.config_file}: {exc}") from None
        return NodeConfig.from_dict(data)

    def save_config(self, config: NodeConfig) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(config.to_toml())


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` atomically with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(path.suffix + ".tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def save_key_file(path: Path, key: PrivateKey) -> None:
    write_private_file(path, json.dumps({
        "address": format_address(key.address),
        "public_key": key.public_key.hex(),
        "secret": key.secret.hex(),
    }, indent=2) + "\n")


def load_key_file(path: Path) -> PrivateKey:
    try:
        data = json.loads(path.read_text())
        return PrivateKey(bytes.fromhex(data["secret"]))
    except FileNotFoundError:
        raise ConfigError(f"no key file at {path}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a valid key file: {exc}") from None
