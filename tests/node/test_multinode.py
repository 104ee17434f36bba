"""Validators over an in-memory network: BFT consensus, tx gossip, catch-up."""

from __future__ import annotations

from pathlib import Path

import trio
from multinode_helpers import CHAIN_ID, cluster

from wattchain.crypto import PrivateKey
from wattchain.types import Tx, sign_tx


def transfers(faucet: PrivateKey, count: int, start_nonce: int = 0) -> list[bytes]:
    recipient = PrivateKey(b"\x33" * 32).address
    return [sign_tx(Tx(CHAIN_ID, faucet.address, start_nonce + i, 10, "accounts", "transfer",
                       [recipient, 1]), faucet).raw for i in range(count)]


async def test_four_validators_commit_gossiped_txs_and_agree(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        await group.wait_for_height(2)
        for raw in transfers(group.faucet, 30):
            group.nodes["node2"].submit_tx(raw)  # gossiped to the others in batches
        with trio.fail_after(30):
            while any(n.chain.mempool.txs or n.chain.height < 4 for n in group.nodes.values()):  # noqa: ASYNC110
                await trio.sleep(0.05)
        top = group.assert_agreement()
        assert top >= 4
        committed = sum(len(group.nodes["node0"].chain.store.block(h).txs)
                        for h in range(1, top + 1))
        assert committed == 30
        proposers = {group.nodes["node0"].chain.store.block(h).header.proposer
                     for h in range(1, top + 1)}
        assert len(proposers) >= 2  # the proposer rotates


async def test_one_validator_down_the_chain_goes_on_and_it_catches_up(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        await group.wait_for_height(2)
        await group.stop("node3")
        reached = group.nodes["node0"].chain.height + 3
        await group.wait_for_height(reached, ["node0", "node1", "node2"])
        await group.start("node3")
        await group.wait_for_height(reached + 1)
        group.assert_agreement()


async def test_two_of_four_down_halts_safely_then_resumes(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        await group.wait_for_height(2)
        await group.stop("node2")
        await group.stop("node3")
        await trio.sleep(0.5)
        stalled = max(n.chain.height for n in group.nodes.values())
        await trio.sleep(2.0)
        assert max(n.chain.height for n in group.nodes.values()) <= stalled + 1
        await group.start("node2")
        await group.wait_for_height(stalled + 2, ["node0", "node1", "node2"], timeout_s=40)
        group.assert_agreement()


async def test_observer_syncs_from_genesis_later(tmp_path: Path) -> None:
    async with cluster(tmp_path, observers=1) as group:
        await group.wait_for_height(5)
        observer = await group.start("observer0")
        target = group.nodes["node0"].chain.height
        await group.wait_for_height(target, ["observer0"])
        group.assert_agreement()
        assert observer.network is not None and observer.network.blocks_synced >= 1
        assert observer.runner.key is None  # it never votes


async def test_equivocation_is_carried_in_a_block_and_recorded_on_chain(tmp_path: Path) -> None:
    from wattchain.node.config import load_key_file
    from wattchain.node.p2p.wire import VoteMessage
    from wattchain.types import VOTE_PREVOTE, Vote

    async with cluster(tmp_path) as group:
        await group.wait_for_height(2)
        offender = load_key_file(group.layout[3].home.validator_key_file)
        node0 = group.nodes["node0"]
        assert node0.network is not None
        with trio.fail_after(10):
            while node0.runner.driver is None:  # noqa: ASYNC110
                await trio.sleep(0.01)
        height = node0.runner.driver.height
        votes = []
        for block_hash in (b"\x01" * 32, b"\x02" * 32):
            vote = Vote(VOTE_PREVOTE, height, 5, block_hash, 1, offender.address)
            vote.signature = offender.sign_digest(vote.sign_digest(node0.chain.chain_id))
            votes.append(vote)
        for vote in votes:
            node0.network._deliver(VoteMessage(vote))
        with trio.fail_after(30):
            while True:
                recorded = node0.chain.vm.query(node0.chain.state, "chain/evidence", {})
                if recorded["evidence"]:
                    break
                await trio.sleep(0.05)
        (item,) = recorded["evidence"]
        assert item["validator"] == "0x" + offender.address.hex()
        assert item["height"] == height and item["round"] == 5
        await group.wait_for_height(item["recorded_at"])
        group.assert_agreement()
        for node in group.nodes.values():  # every replica recorded it
            assert node.chain.vm.query(node.chain.state, "chain/evidence", {})["evidence"]
