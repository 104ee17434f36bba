"""The demo community on a running testnet: set it up, then play it interval
by interval.

The work is split by job; this module wires the pieces together:

=====================  ==================================================
``sim/session.py``     state kept in ``demo.json``, the tally, signing and
                       sending txs (``TxSender``)
``sim/setup.py``       registering the community, in dependency phases
``sim/agents.py``      the per-interval agents: meter readings, oracle
                       feeds, bids and asks, bills, the scripted emergency
``sim/views.py``       reading the chain into the dashboard's snapshot and
                       the headless JSON line
=====================  ==================================================

``Demo.setup()`` is idempotent: a resumed demo finds its accounts, assets and
meters on the chain and skips what is done. ``Demo.step()`` sends every
agent's txs right after an interval starts; ``Demo.snapshot()`` reads the
chain for the dashboard and checks the bills issued so far. Everything the
demo knows comes from the chain or the seeded profiles.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from wattchain.sim.agents import IntervalAgents, Scenario
from wattchain.sim.community import Community
from wattchain.sim.session import DemoError, DemoState, Tally, TxSender
from wattchain.sim.setup import CommunitySetup
from wattchain.sim.views import ChainViews, headless_line

__all__ = ["Demo", "DemoError", "DemoState", "Scenario", "headless_line"]


class Demo:
    """One demo run against the validators at ``urls``."""

    def __init__(self, urls: list[str], community: Community, state: DemoState,
                 state_path: Path, scenario: Scenario | None = None,
                 bill_every: int = 4) -> None:
        self.community = community
        self.state = state
        self.state_path = state_path
        self.sender = TxSender(urls)
        self.tally = Tally()
        rng = random.Random(community.seed * 7919)  # one stream for setup and agents
        self.setup_phases = CommunitySetup(self.sender, community, state, rng)
        self.agents = IntervalAgents(self.sender, community, state, rng, self.tally,
                                     scenario, bill_every)
        self.views = ChainViews(self.sender.clients, community, state, self.tally,
                                self.setup_phases.asset_names)

    @property
    def scenario(self) -> Scenario:
        """When the scripted emergency happens; set it before the first ``step``."""
        return self.agents.scenario

    @scenario.setter
    def scenario(self, scenario: Scenario) -> None:
        self.agents.scenario = scenario

    def setup(self, progress: Any = None) -> None:
        """Register the community (skipping what the chain already has) and load the
        meters' registers; raise ``DemoError`` if a phase fails."""
        self.views.last_height = self.sender.connect()
        self.setup_phases.run(progress)
        self.setup_phases.bind_assets()
        self.agents.load_meters()
        self.state.setup_done = True
        self.state.save(self.state_path)

    def next_boundary(self, ahead: int = 1) -> int:
        """An interval start ``ahead`` intervals after now."""
        return self.sender.next_boundary(self.state.interval_ms, ahead)

    def slot(self, interval_start: int) -> int:
        return self.state.slot(interval_start)

    def step(self, interval_start: int) -> None:
        """Play the interval that starts at ``interval_start`` (called just after it)."""
        self.sender.broadcast(self.agents.interval_txs(interval_start))

    def snapshot(self, interval_start: int, elapsed_s: float) -> dict[str, Any]:
        """Fold the new blocks, check the bills now on the chain, and read the
        dashboard's data for the interval starting at ``interval_start``."""
        self.views.follow_blocks()
        self.agents.verify_bills()
        return self.views.snapshot(interval_start, elapsed_s)

    def app_hashes_agree(self) -> bool:
        return self.views.app_hashes_agree()
