"""Send a transfer and read a balance with the WattChain client library.

Against a devnet (``wattchain devnet --home ./localnet`` in another shell):

    python examples/client_transfer.py ./localnet http://127.0.0.1:26657
"""

from __future__ import annotations

import sys
from pathlib import Path

from wattchain.client import Keyring, RpcClient, send_tx


def transfer_and_check(client: RpcClient, keyring_dir: Path, to: str, amount: int) -> int:
    """Send ``amount`` micro-units from the devnet faucet to the key ``to`` (created if
    missing); return that account's balance once the tx is in a block."""
    keyring = Keyring(keyring_dir, backend="test")
    faucet = keyring.get("faucet")
    known = {info.name for info in keyring.list()}
    recipient = keyring.info(to) if to in known else keyring.add(to)[0]
    outcome = send_tx(client, faucet, "accounts", "transfer", [recipient.address, amount])
    outcome.raise_for_failure()  # TxRefused / TxFailed carry the node's reason
    balance = client.query("accounts/balance", address=recipient.to_json()["address"])
    return int(balance["balance"])


if __name__ == "__main__":
    home, url = Path(sys.argv[1]), sys.argv[2]
    with RpcClient(url) as client:
        print(transfer_and_check(client, home / "keyring", "bob", 1_000_000))
