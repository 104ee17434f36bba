"""Handlers of the verification workflow and of certifications.

The legal moves and who may make them are in ``lifecycle``; these handlers
gather the facts (roles, zone operator, revision), check them, and record
each status change in the asset's history and as an ``asset_status`` event.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from wattchain.modules.registration.errors import (
    DuplicateCertificate,
    HostingCapacityExceeded,
    InvalidTransition,
    InvalidValidity,
    NotRenewable,
    NotZoneOperator,
    SelfAttestation,
    StaleRevision,
)
from wattchain.modules.registration.handlers import BaseHandlers
from wattchain.modules.registration.lifecycle import CERTIFIABLE, authorize, next_status
from wattchain.modules.registration.types import (
    RENEWABLE_TYPES,
    SUSPENDED,
    Approval,
    Asset,
    Attestation,
    Certification,
)
from wattchain.modules.registration.validation import (
    MAX_REASON_LEN,
    MAX_TIME_MS,
    check_asset_id,
    check_evidence_hash,
    check_scheme,
)
from wattchain.vm.fields import arg_int, arg_text, expect_args
from wattchain.vm.interface import Context


def check_revision(asset: Asset, value: Any) -> None:
    revision = arg_int(value, "revision", 1, MAX_TIME_MS)
    if revision != asset.revision:
        raise StaleRevision(f"the asset is at revision {asset.revision}, not {revision}: "
                            "it changed since you inspected it")


class WorkflowHandlers(BaseHandlers):
    def certifier_asset(self, ctx: Context, asset_raw: Any, verb: str) -> tuple[int, Asset]:
        """(id, record) of the asset a certifier acts on: any but its own."""
        self.require_role(ctx, "certifier")
        asset_id = check_asset_id(asset_raw)
        old = self.load_asset(ctx, asset_id)
        if old.owner == ctx.sender:
            raise SelfAttestation(f"a certifier may not {verb} its own asset")
        return asset_id, old

    def attest(self, ctx: Context, args: list[Any]) -> None:
        """[asset_id, revision, evidence_hash] (certifier, not the owner)."""
        asset_raw, revision_raw, evidence_raw = expect_args(
            args, 3, "asset id, revision, evidence hash (32 bytes)")
        asset_id, old = self.certifier_asset(ctx, asset_raw, "attest")
        check_revision(old, revision_raw)
        evidence_hash = check_evidence_hash(evidence_raw)
        new = dataclasses.replace(old, status=next_status("attest", old.status), attestation=(
            Attestation(ctx.sender, evidence_hash, old.revision, ctx.height, ctx.time_ms)))
        self.change_status(ctx, asset_id, old, new, "attest",
                           "inspected; evidence 0x" + evidence_hash.hex())

    def approve(self, ctx: Context, args: list[Any]) -> None:
        """[asset_id, revision] (the DSO operating the asset's zone): connect it."""
        asset_raw, revision_raw = expect_args(args, 2, "asset id, revision")
        self.require_role(ctx, "dso")
        asset_id = check_asset_id(asset_raw)
        old = self.load_asset(ctx, asset_id)
        zone = self.load_zone(ctx, old.zone_id)
        if zone.operator != ctx.sender:
            raise NotZoneOperator(f"only the operator of zone {old.zone_id!r} "
                                  f"(0x{zone.operator.hex()}) approves connections in it")
        check_revision(old, revision_raw)
        new = dataclasses.replace(old, status=next_status("approve", old.status), approval=(
            Approval(ctx.sender, old.revision, ctx.height, ctx.time_ms)))
        if zone.connected_w + new.connected_w > zone.hosting_capacity_w:
            raise HostingCapacityExceeded(
                f"zone {old.zone_id!r} connects {zone.connected_w} W of "
                f"{zone.hosting_capacity_w} W; {new.capacity_w} W more does not fit")
        self.change_status(ctx, asset_id, old, new, "approve", "grid connection approved")

    def suspend(self, ctx: Context, args: list[Any]) -> None:
        """[asset_id, reason] (zone operator, attesting certifier or admin)."""
        self._authority_step(ctx, args, "suspend")

    def reinstate(self, ctx: Context, args: list[Any]) -> None:
        """[asset_id, reason] (whoever suspended it, or an admin)."""
        self._authority_step(ctx, args, "reinstate")

    def revoke(self, ctx: Context, args: list[Any]) -> None:
        """[asset_id, reason] (owner, zone operator, attesting certifier or admin). Final."""
        self._authority_step(ctx, args, "revoke")

    def _authority_step(self, ctx: Context, args: list[Any], action: str) -> None:
        asset_raw, reason_raw = expect_args(args, 2, "asset id, reason")
        asset_id = check_asset_id(asset_raw)
        reason = arg_text(reason_raw, "reason", MAX_REASON_LEN)
        old = self.load_asset(ctx, asset_id)
        authorize(action, self.labels(ctx, asset_id, old))
        new = dataclasses.replace(old, status=next_status(action, old.status))
        self.change_status(ctx, asset_id, old, new, action, reason)

    def labels(self, ctx: Context, asset_id: int, asset: Asset) -> frozenset[str]:
        """What the sender is with respect to ``asset`` (see ``lifecycle.WHO_MAY``)."""
        labels = set()
        if asset.owner == ctx.sender:
            labels.add("owner")
        if self.has_role(ctx, "admin"):
            labels.add("admin")
        zone = self.keeper.get_zone(ctx.state, asset.zone_id)
        if zone is not None and zone.operator == ctx.sender and self.has_role(ctx, "dso"):
            labels.add("zone operator")
        attestation = asset.attestation
        if (attestation is not None and attestation.certifier == ctx.sender
                and self.has_role(ctx, "certifier")):
            labels.add("attesting certifier")
        if asset.status == SUSPENDED:
            last = self.keeper.last_history_entry(ctx.state, asset_id, asset)
            if last is not None and last.actor == ctx.sender:
                labels.add("suspender")
        return frozenset(labels)

    def certify(self, ctx: Context, args: list[Any]) -> None:
        """[asset_id, scheme, certificate_id, valid_from_ms, valid_to_ms] (certifier, not
        the owner) on a verified renewable asset; valid from (inclusive) to (exclusive)."""
        asset_raw, scheme_raw, certificate_raw, from_raw, to_raw = expect_args(
            args, 5, "asset id, scheme, certificate id, valid from ms, valid to ms")
        asset_id, old = self.certifier_asset(ctx, asset_raw, "certify")
        if old.asset_type not in RENEWABLE_TYPES:
            raise NotRenewable(f"a {old.asset_type} asset carries no renewable certification")
        if old.status not in CERTIFIABLE:
            raise InvalidTransition(f"only a verified asset can be certified; this one is "
                                    f"{old.status}")
        scheme = check_scheme(scheme_raw)
        certificate_id = arg_text(certificate_raw, "certificate id")
        valid_from = arg_int(from_raw, "valid from (ms)", 0, MAX_TIME_MS)
        valid_to = arg_int(to_raw, "valid to (ms)", 0, MAX_TIME_MS)
        if not valid_from < valid_to or valid_to <= ctx.time_ms:
            raise InvalidValidity("the validity must start before it ends and end after "
                                  f"the block time {ctx.time_ms}")
        holder = self.keeper.certificate_holder(ctx.state, scheme, certificate_id)
        if holder is not None:
            raise DuplicateCertificate(f"{scheme} certificate {certificate_id!r} is already "
                                       f"attached to asset {holder[0]}")
        new = dataclasses.replace(old)
        seq = self.keeper.add_certification(ctx.state, asset_id, new, Certification(
            scheme, certificate_id, ctx.sender, valid_from, valid_to, ctx.height))
        self.keeper.save_asset(ctx.state, asset_id, old, new)
        ctx.emit("certified", {"asset_id": asset_id, "seq": seq, "scheme": scheme,
                               "certificate_id": certificate_id, "certifier": ctx.sender,
                               "valid_from_ms": valid_from, "valid_to_ms": valid_to})
