"""State key layout of the registration module (prefix ``reg/``).

Zone ids, types and statuses never contain ``/`` (see ``validation``), so
``<prefix><text>/`` scans exactly one of them. Ids are 8-byte big-endian so
keys sort by id; sequence numbers inside an asset are 4-byte big-endian.
"""

from __future__ import annotations

import struct

from wattchain import codec
from wattchain.hashing import sha256

PREFIX = b"reg/"
PARAMS_KEY = b"reg/params"
NEXT_ASSET_KEY = b"reg/next_asset"
ZONE_PREFIX = b"reg/z/"
PRODUCER_PREFIX = b"reg/p/"
ASSET_PREFIX = b"reg/a/"
HISTORY_PREFIX = b"reg/h/"
CERTIFICATION_PREFIX = b"reg/c/"
CERTIFICATE_ID_PREFIX = b"reg/cid/"  # (scheme, certificate id) -> (asset, seq)
EXPIRY_PREFIX = b"reg/x/"  # valid_to, asset, seq: certifications in order of expiry
SERIAL_PREFIX = b"reg/s/"  # sha256(serial) -> asset
METER_PREFIX = b"reg/m/"  # meter id -> asset, while the asset is not revoked
BY_OWNER_PREFIX = b"reg/io/"
BY_ZONE_PREFIX = b"reg/iz/"
BY_STATUS_PREFIX = b"reg/is/"
BY_TYPE_PREFIX = b"reg/it/"
# Every key above that is derived from asset records (rebuilt on genesis import).
DERIVED_PREFIXES = (CERTIFICATE_ID_PREFIX, EXPIRY_PREFIX, SERIAL_PREFIX, METER_PREFIX,
                    BY_OWNER_PREFIX, BY_ZONE_PREFIX, BY_STATUS_PREFIX, BY_TYPE_PREFIX)
INDEX_VALUE = b"\x01"


def encode_id(asset_id: int) -> bytes:
    return struct.pack(">Q", asset_id)


def decode_id(raw: bytes) -> int:
    value: int = struct.unpack(">Q", raw)[0]
    return value


def zone_key(zone_id: str) -> bytes:
    return ZONE_PREFIX + zone_id.encode()


def producer_key(address: bytes) -> bytes:
    return PRODUCER_PREFIX + address


def asset_key(asset_id: int) -> bytes:
    return ASSET_PREFIX + encode_id(asset_id)


def history_key(asset_id: int, seq: int) -> bytes:
    return HISTORY_PREFIX + encode_id(asset_id) + struct.pack(">I", seq)


def history_prefix(asset_id: int) -> bytes:
    return HISTORY_PREFIX + encode_id(asset_id)


def certification_key(asset_id: int, seq: int) -> bytes:
    return CERTIFICATION_PREFIX + encode_id(asset_id) + struct.pack(">I", seq)


def certification_prefix(asset_id: int) -> bytes:
    return CERTIFICATION_PREFIX + encode_id(asset_id)


def certificate_id_key(scheme: str, certificate_id: str) -> bytes:
    return CERTIFICATE_ID_PREFIX + sha256(codec.encode([scheme, certificate_id]))


def expiry_key(valid_to_ms: int, asset_id: int, seq: int) -> bytes:
    return EXPIRY_PREFIX + struct.pack(">Q", valid_to_ms) + encode_id(asset_id) + struct.pack(
        ">I", seq)


def decode_expiry_key(key: bytes) -> tuple[int, int, int]:
    """(valid_to_ms, asset id, seq) of an expiry index key."""
    valid_to, asset_id, seq = struct.unpack(">QQI", key[len(EXPIRY_PREFIX):])
    return int(valid_to), int(asset_id), int(seq)


def serial_key(serial: str) -> bytes:
    return SERIAL_PREFIX + sha256(serial.encode())


def meter_key(meter_id: str) -> bytes:
    return METER_PREFIX + meter_id.encode()


def by_owner_prefix(owner: bytes) -> bytes:
    return BY_OWNER_PREFIX + owner


def by_zone_prefix(zone_id: str) -> bytes:
    return BY_ZONE_PREFIX + zone_id.encode() + b"/"


def by_status_prefix(status: str) -> bytes:
    return BY_STATUS_PREFIX + status.encode() + b"/"


def by_type_prefix(asset_type: str) -> bytes:
    return BY_TYPE_PREFIX + asset_type.encode() + b"/"
