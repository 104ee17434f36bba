"""Zones, producers, assets and certifications.

Every record encodes to a canonical msgpack array (``to_list``) and decodes
back with ``from_list``; power is in W, energy in Wh, locations in
micro-degrees and times in ms of block time. Nothing here is a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from wattchain.vm.params import IntegerParams
from wattchain.vm.records import Record

ASSET_TYPES: tuple[str, ...] = ("solar", "wind", "hydro", "biomass", "geothermal", "storage",
                                "flexible_load")
RENEWABLE_TYPES = frozenset({"solar", "wind", "hydro", "biomass", "geothermal"})
PRODUCER_KINDS: tuple[str, ...] = ("household", "community", "business", "utility")
SCHEMES: tuple[str, ...] = ("I-REC", "GO", "REC", "custom")

SUBMITTED = "submitted"
ATTESTED = "attested"
ACTIVE = "active"
SUSPENDED = "suspended"
REVOKED = "revoked"
STATUSES: tuple[str, ...] = (SUBMITTED, ATTESTED, ACTIVE, SUSPENDED, REVOKED)
# Assets whose capacity counts against their zone's hosting capacity: the DSO
# approved the connection and it has not been revoked or sent back.
CONNECTED = frozenset({ACTIVE, SUSPENDED})


@dataclass(slots=True)
class RegistrationParams(IntegerParams):
    """Protocol limits, set in genesis (section ``params``)."""

    minimum: ClassVar[int] = 1
    module: ClassVar[str] = "registration"

    max_asset_capacity_w: int = 1_000_000_000  # 1 GW nameplate
    max_energy_capacity_wh: int = 10_000_000_000  # 10 GWh of storage
    max_metadata_bytes: int = 1_024


@dataclass(slots=True)
class Zone(Record):
    name: str
    hosting_capacity_w: int
    operator: bytes  # the DSO that created the zone; only it changes or approves in it
    connected_w: int = 0  # capacity of CONNECTED assets; derived, kept in step by the keeper


@dataclass(slots=True)
class Producer(Record):
    name: str
    kind: str
    contact_uri: str
    metadata: str  # free text (e.g. JSON), at most params.max_metadata_bytes of UTF-8
    registered_height: int
    registered_time_ms: int


@dataclass(slots=True)
class Equipment(Record):
    manufacturer: str
    model: str
    serial: str  # unique chain-wide: one physical installation backs one asset
    inverter_model: str  # "" when there is none (e.g. a hydro turbine on a generator)
    unit_count: int


@dataclass(slots=True)
class Attestation(Record):
    """A certifier's signed statement (its tx) that it inspected this revision."""

    certifier: bytes
    evidence_hash: bytes  # sha256 of the inspection evidence, kept off chain
    revision: int
    height: int
    time_ms: int


@dataclass(slots=True)
class Approval(Record):
    """The zone DSO's approval of the grid connection of one revision."""

    dso: bytes
    revision: int
    height: int
    time_ms: int


@dataclass(slots=True)
class Asset:
    owner: bytes
    asset_type: str
    capacity_w: int  # nameplate power
    energy_wh: int  # storage energy capacity; 0 for every other type
    zone_id: str
    connection_point: str
    latitude_micro: int
    longitude_micro: int
    commissioned_ms: int
    equipment: Equipment
    meter_id: str  # "" while no meter is bound
    status: str
    revision: int  # bumped when capacity or specs change; attestations and approvals name one
    attestation: Attestation | None = None
    approval: Approval | None = None
    history_length: int = 0
    certification_count: int = 0

    @property
    def connected_w(self) -> int:
        """What this asset takes from its zone's hosting capacity."""
        return self.capacity_w if self.status in CONNECTED else 0

    def to_list(self) -> list[Any]:
        return [self.owner, self.asset_type, self.capacity_w, self.energy_wh, self.zone_id,
                self.connection_point, self.latitude_micro, self.longitude_micro,
                self.commissioned_ms, self.equipment.to_list(), self.meter_id, self.status,
                self.revision, None if self.attestation is None else self.attestation.to_list(),
                None if self.approval is None else self.approval.to_list(),
                self.history_length, self.certification_count]

    @classmethod
    def from_list(cls, items: list[Any]) -> Asset:
        (owner, asset_type, capacity_w, energy_wh, zone_id, connection_point, latitude,
         longitude, commissioned_ms, equipment, meter_id, status, revision, attestation,
         approval, history_length, certification_count) = items
        return cls(owner, asset_type, capacity_w, energy_wh, zone_id, connection_point,
                   latitude, longitude, commissioned_ms, Equipment(*equipment), meter_id,
                   status, revision, None if attestation is None else Attestation(*attestation),
                   None if approval is None else Approval(*approval), history_length,
                   certification_count)


@dataclass(slots=True)
class HistoryEntry(Record):
    height: int
    time_ms: int
    status: str
    actor: bytes
    reason: str


@dataclass(slots=True)
class Certification(Record):
    scheme: str
    certificate_id: str
    certifier: bytes
    valid_from_ms: int  # inclusive
    valid_to_ms: int  # exclusive
    height: int

    def is_valid_at(self, at_ms: int) -> bool:
        return self.valid_from_ms <= at_ms < self.valid_to_ms
