"""What the demo shows: the chain read once per interval into a snapshot (a
plain dict the dashboard renders), and the headless JSON line made from it.

``ChainViews.follow_blocks`` folds the events of the blocks since the last
call into the ``Tally`` (trades, dispatches, certificates, emergencies);
``snapshot`` adds each validator's status and each zone's market, balancing
and emergency state. Energy is in Wh per chain interval, prices in
micro-units per kWh.
"""

from __future__ import annotations

from typing import Any

from wattchain.client import RpcCallError, RpcClient
from wattchain.crypto import format_address
from wattchain.sim.community import ZONES, Community
from wattchain.sim.session import COUNTED, DemoState, Tally

BLOCKS_PER_BATCH = 50
MAX_BLOCKS_FOLLOWED = 200  # after a long pause only the newest blocks are read
MARKET_STATES = ("open", "capped", "suspended")
ZONE_STATUS_FIELDS = ("import_wh", "export_wh", "imbalance_wh", "scheduled_wh", "flex_up_wh",
                      "flex_down_wh")
# headless zone field -> zone view field
HEADLESS_ZONE_FIELDS = {
    "clearing_price": "clearing_price", "cleared_wh": "cleared_wh",
    "scheduled_wh": "scheduled_wh", "import_wh": "import_wh", "export_wh": "export_wh",
    "imbalance_wh": "imbalance_wh", "recorded_interval": "recorded_interval",
    "forecast_imbalance_wh": "forecast_imbalance_wh", "flex_up_wh": "dispatched_up_wh",
    "flex_down_wh": "dispatched_down_wh", "curtailed_wh": "curtailed_wh",
    "shared_wh": "shared_wh", "imbalance_price": "imbalance_price"}


class ChainViews:
    """Reads the chain for the dashboard. ``asset_names`` (asset id -> name) is
    the setup's map, filled in as assets are registered."""

    def __init__(self, clients: list[RpcClient], community: Community, state: DemoState,
                 tally: Tally, asset_names: dict[int, str]) -> None:
        self.clients = clients
        self.community = community
        self.state = state
        self.tally = tally
        self.asset_names = asset_names
        self.names = {format_address(m.key.address): m.name for m in community.members}
        self.last_height = 0  # the newest block already folded into the tally

    @property
    def client(self) -> RpcClient:
        return self.clients[0]

    # -- events ---------------------------------------------------------------------------

    def follow_blocks(self) -> None:
        """Fold the events of new blocks into the tally (trades, dispatches, ...)."""
        tip = int(self.client.call("status")["sync_info"]["latest_block_height"])
        heights = list(range(self.last_height + 1, tip + 1))[-MAX_BLOCKS_FOLLOWED:]
        for offset in range(0, len(heights), BLOCKS_PER_BATCH):
            answers = self.client.call_batch_answers(
                [("block_results", {"height": h})
                 for h in heights[offset:offset + BLOCKS_PER_BATCH]])
            for answer in answers:
                result = answer.get("result") if isinstance(answer, dict) else None
                if result is not None:
                    self.fold_block(result)
        self.last_height = tip

    def fold_block(self, result: dict[str, Any]) -> None:
        """Count a block's txs and fold the events of its txs and of its end block."""
        self.tally.txs += len(result["txs_results"])
        for tx_result in result["txs_results"]:
            for event in tx_result["events"]:
                self.fold_event(event)
        for event in result["end_block_events"]:
            self.fold_event(event)

    def fold_event(self, event: dict[str, Any]) -> None:
        kind, attributes = event["kind"], event["attributes"]
        if kind == "trade":
            self.tally.trades.appendleft({
                "zone": attributes.get("zone"),
                "buyer": self.names.get(str(attributes.get("buyer")), "?"),
                "seller": self.names.get(str(attributes.get("seller")), "?"),
                "wh": int(attributes.get("energy_wh", 0)),
                "price": int(attributes.get("price", 0))})
        elif kind == "flex_dispatch":
            asset_id = int(attributes.get("asset_id", 0))
            self.tally.dispatches.appendleft({
                "zone": attributes.get("zone"), "action": attributes.get("action"),
                "asset": self.asset_names.get(asset_id, attributes.get("peer") or "-"),
                "wh": int(attributes.get("energy_wh", 0)),
                "price": int(attributes.get("price", 0))})
        elif kind == "certificate_issued":
            self.tally.counts["certificates"] += 1
        elif kind == "emergency" and event.get("module") == "balancing":
            self.fold_emergency(attributes)

    def fold_emergency(self, attributes: dict[str, Any]) -> None:
        action = attributes.get("action")
        if action == "declared":
            self.tally.counts["emergencies_declared"] += 1
        elif action in ("cleared", "expired"):
            self.tally.counts["emergencies_cleared"] += 1
        market = MARKET_STATES[int(attributes.get("market", 0))]
        self.tally.log.append(f"{attributes.get('zone')}: emergency {action} "
                              f"({attributes.get('kind')}, market {market})")

    # -- nodes ----------------------------------------------------------------------------

    def validators(self) -> list[dict[str, Any]]:
        """Each node's height, round, peers and app hash, or ``up: False``."""
        rows = []
        for client in self.clients:
            try:
                status = client.call("status")
                sync, consensus = status["sync_info"], status.get("consensus", {})
                rows.append({"name": status["node_info"]["moniker"],
                             "height": sync["latest_block_height"],
                             "round": consensus.get("round", 0), "peers": status.get("peers", 0),
                             "app_hash": sync["latest_app_hash"], "up": True})
            except Exception:  # noqa: BLE001 - a node down is shown as down
                rows.append({"name": client.url, "up": False})
        return rows

    def app_hashes_agree(self) -> bool:
        """Every node's app hash at the lowest common height is the same."""
        heights = []
        for client in self.clients:
            heights.append(int(client.call("status")["sync_info"]["latest_block_height"]))
        common = min(heights)
        hashes = {client.call("block_results", height=common)["app_hash"]
                  for client in self.clients}
        return len(hashes) == 1

    # -- zones ----------------------------------------------------------------------------

    def zone_view(self, zone: str, interval_start: int) -> dict[str, Any]:
        """A zone's market, newest recorded balance, dispatch and emergency state; a
        part the chain has no record of yet is left out."""
        view: dict[str, Any] = {}
        self.add_clearing(view, zone, interval_start)
        try:
            self.add_zone_status(view, zone)
        except RpcCallError:
            pass
        try:
            self.add_dispatch(view, zone, interval_start)
        except RpcCallError:
            pass
        emergency = self.client.query("balancing/emergency", zone=zone)
        view["market"] = emergency["market"]
        current = emergency["emergency"]
        view["emergency"] = None if current is None else {
            "kind": current["kind"], "severity": current["severity"],
            "expiry_ms": current["expiry_ms"]}
        return view

    def add_clearing(self, view: dict[str, Any], zone: str, interval_start: int) -> None:
        try:
            clearing = self.client.query("trading/clearing", zone=zone,
                                         interval_start=interval_start)
            view["clearing_price"] = None if clearing["price"] < 0 else clearing["price"]
            view["cleared_wh"] = clearing["volume_wh"]
        except (RpcCallError, KeyError):
            view["clearing_price"], view["cleared_wh"] = None, 0

    def add_zone_status(self, view: dict[str, Any], zone: str) -> None:
        """The newest recorded interval (the one before, once its readings were in)."""
        status = self.client.query("balancing/zone_status", zone=zone)
        view.update({name: status[name] for name in ZONE_STATUS_FIELDS})
        view["recorded_interval"] = status["interval_start"]
        view["imbalance_price"] = status["price"]
        resilience = status.get("resilience") or {}
        view["soc_wh"] = resilience.get("storage_soc_wh", 0)
        view["storage_wh"] = resilience.get("storage_energy_wh", 0)

    def add_dispatch(self, view: dict[str, Any], zone: str, interval_start: int) -> None:
        dispatch = self.client.query("balancing/dispatch", zone=zone,
                                     interval_start=interval_start)
        view["forecast_imbalance_wh"] = dispatch["forecast_imbalance_wh"]
        view["dispatched_up_wh"] = dispatch["up_wh"]
        view["dispatched_down_wh"] = dispatch["down_wh"]
        view["curtailed_wh"] = sum(item["energy_wh"] for item in dispatch["items"]
                                   if item["action"] in ("curtail_generation", "shed"))
        view["shared_wh"] = sum(item["energy_wh"] for item in dispatch["items"]
                                if item["action"] in ("share_in", "share_out"))

    # -- the snapshot ---------------------------------------------------------------------

    def snapshot(self, interval_start: int, elapsed_s: float) -> dict[str, Any]:
        """The dashboard's data for the interval starting at ``interval_start``;
        ``txs`` and ``tps`` count the blocks folded since the last snapshot (over
        ``elapsed_s``). Call ``follow_blocks`` first."""
        index = self.state.slot(interval_start)
        validators = self.validators()
        height = max((int(v.get("height", 0)) for v in validators if v.get("up")), default=0)
        txs, self.tally.txs = self.tally.txs, 0
        return {
            "interval": index, "interval_start": interval_start,
            "interval_ms": self.state.interval_ms,
            "sim_time": self.community.data.slot_start(index).strftime("%Y-%m-%d %H:%M"),
            "height": height, "txs": txs, "tps": round(txs / max(elapsed_s, 0.001), 1),
            "validators": validators,
            "zones": {zone: self.zone_view(zone, interval_start) for zone in ZONES},
            "trades": list(self.tally.trades), "dispatches": list(self.tally.dispatches),
            "log": list(self.tally.log),
            **{name: self.tally.counts[name] for name in COUNTED},
        }


def headless_line(snapshot: dict[str, Any], app_hashes_agree: bool) -> dict[str, Any]:
    """The JSON line of one interval in ``--headless`` mode."""
    zones = {}
    for zone, view in snapshot["zones"].items():
        zones[zone] = {name: view.get(source) for name, source in HEADLESS_ZONE_FIELDS.items()}
        zones[zone]["emergency"] = None if view.get("emergency") is None \
            else view["emergency"]["kind"]
        zones[zone]["market"] = view.get("market")
    return {"interval": snapshot["interval"], "interval_start": snapshot["interval_start"],
            "sim_time": snapshot["sim_time"], "height": snapshot["height"],
            "txs": snapshot["txs"], "zones": zones,
            **{name: snapshot[name] for name in COUNTED},
            "app_hashes_agree": app_hashes_agree}
