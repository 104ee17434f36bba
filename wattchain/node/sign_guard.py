"""The validator's last-sign state on disk.

Written with fsync and an atomic rename before a vote or proposal leaves the
node, so a validator killed at any moment never signs two conflicting
messages for one (height, round, step), even across restarts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from wattchain.consensus.safety import SignedSlot, check_slot


class FileSignGuard:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.last: SignedSlot | None = self._load()

    def _load(self) -> SignedSlot | None:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"the sign state {self.path} is unreadable ({exc}); refusing "
                               "to sign until an operator restores it") from None
        return SignedSlot(data["height"], data["round"], data["step"],
                          bytes.fromhex(data["block_hash"]), bytes.fromhex(data["message"]))

    def authorize(self, height: int, round_: int, step: int, block_hash: bytes) -> bytes | None:
        return check_slot(self.last, height, round_, step, block_hash)

    def record(self, signed: SignedSlot) -> None:
        check_slot(self.last, signed.height, signed.round, signed.step, signed.block_hash)
        text = json.dumps({"height": signed.height, "round": signed.round, "step": signed.step,
                           "block_hash": signed.block_hash.hex(),
                           "message": signed.message.hex()})
        temp = self.path.with_suffix(".tmp")
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self.last = signed
