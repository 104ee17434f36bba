"""Building, signing and submitting transactions through a node.

A tx names a module and a method of the chain with its arguments (see the
handler tables of ``wattchain.modules``); the builder fills in what the chain
checks: the chain id, the sender's next nonce and a fee (default: the chain's
``min_fee``). Signing is local (``sign_tx``, secp256k1 over the tx body); the
node never sees a key.

>>> with RpcClient(url) as client:                                # doctest: +SKIP
...     outcome = send_tx(client, key, "accounts", "transfer", [bob, 1_000_000])
...     outcome.raise_for_failure()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattchain.client.errors import ClientError, TxRefused
from wattchain.client.rpc import RpcClient
from wattchain.crypto import PrivateKey, format_address
from wattchain.types import SignedTx, Tx, sign_tx

__all__ = ["TxBuilder", "TxFailed", "TxOutcome", "broadcast_tx", "send_tx", "sign_tx"]


class TxFailed(ClientError):
    """A tx reached a block but its handler failed (fee and nonce are spent)."""

    code = 53

    def __init__(self, message: str, outcome: TxOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True)
class TxOutcome:
    """What the node said about a broadcast tx.

    ``answer`` is the node's answer as is: for a committed broadcast
    ``{"check_tx", "tx_result", "height", ...}``, for a sync one the check
    result alone (``committed`` False).
    """

    hash: str
    answer: dict[str, Any]
    committed: bool

    @property
    def check(self) -> dict[str, Any]:
        check: dict[str, Any] = self.answer["check_tx"] if self.committed else self.answer
        return check

    @property
    def result(self) -> dict[str, Any] | None:
        """The block's result of the tx (None when not waited for)."""
        result: dict[str, Any] | None = self.answer.get("tx_result") if self.committed else None
        return result

    @property
    def height(self) -> int | None:
        height: int | None = self.answer.get("height")
        return height

    @property
    def refused(self) -> bool:
        return bool(self.check["code"] != 0)

    @property
    def failed(self) -> bool:
        """True if the tx reached a block and its handler failed."""
        return self.result is not None and self.result["code"] != 0

    @property
    def ok(self) -> bool:
        return not self.refused and not self.failed

    def events(self, kind: str) -> list[dict[str, Any]]:
        """The attributes of every ``kind`` event the tx emitted, in order."""
        events = (self.result or {}).get("events", [])
        return [event.get("attributes", {}) for event in events if event.get("kind") == kind]

    def raise_for_refusal(self) -> None:
        if self.refused:
            check = self.check
            raise TxRefused(f"the node refused the tx ({check['codespace']} code "
                            f"{check['code']}): {check['log']}", check)

    def raise_for_failure(self) -> None:
        """Raise ``TxRefused`` or ``TxFailed`` unless the tx is accepted (and, when
        waited for, succeeded in its block)."""
        self.raise_for_refusal()
        if self.failed and self.result is not None:
            raise TxFailed(f"the tx failed in block {self.height} ({self.result['codespace']} "
                           f"code {self.result['code']}): {self.result['log']}", self)


class TxBuilder:
    """Fills in chain id, nonce and fee from a node; caches the chain id and fee."""

    def __init__(self, client: RpcClient) -> None:
        self.client = client
        self._chain_id: str | None = None
        self._min_fee: int | None = None

    @property
    def chain_id(self) -> str:
        if self._chain_id is None:
            self._chain_id = self.client.chain_id()
        return self._chain_id

    @property
    def min_fee(self) -> int:
        if self._min_fee is None:
            self._min_fee = int(self.client.query("chain/params")["min_fee"])
        return self._min_fee

    def account(self, address: bytes) -> dict[str, Any]:
        """The ``accounts/account`` record: balance, nonce, roles."""
        account: dict[str, Any] = self.client.query("accounts/account",
                                                    address=format_address(address))
        return account

    def build(self, sender: bytes, module: str, method: str, args: list[Any],
              fee: int | None = None, valid_until_height: int = 0) -> Tx:
        """An unsigned tx from ``sender`` with its next nonce (as of the latest block)."""
        return self.build_with_account(sender, module, method, args, fee,
                                       valid_until_height)[0]

    def build_with_account(self, sender: bytes, module: str, method: str, args: list[Any],
                           fee: int | None = None, valid_until_height: int = 0
                           ) -> tuple[Tx, dict[str, Any]]:
        """Like ``build``, with the sender's account record the nonce came from."""
        chain_id = self.chain_id
        account = self.account(sender)
        tx = Tx(chain_id, sender, account["nonce"], self.min_fee if fee is None else fee,
                module, method, args, valid_until_height)
        return tx, account


def broadcast_tx(client: RpcClient, stx: SignedTx, wait: bool = True) -> TxOutcome:
    """Broadcast a signed tx; with ``wait`` return once it is in a block."""
    answer = client.broadcast(stx.raw, "commit" if wait else "sync")
    return TxOutcome(stx.tx_id.hex(), answer, wait)


def send_tx(client: RpcClient, signer: PrivateKey, module: str, method: str,
            args: list[Any], fee: int | None = None, wait: bool = True) -> TxOutcome:
    """Build, sign with ``signer`` and broadcast one tx; the caller checks the
    outcome (``outcome.raise_for_failure()``)."""
    tx = TxBuilder(client).build(signer.address, module, method, args, fee)
    return broadcast_tx(client, sign_tx(tx, signer), wait)
