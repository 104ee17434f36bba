"""Errors of the registration module (codespace "registration").

Codes are public and never change meaning; append new ones.
"""

from __future__ import annotations

from wattchain.vm import errors


class RegistrationError(errors.TxError, codespace="registration", code=100):
    """Base of the registration module's errors."""


class MissingRole(errors.MissingRole, RegistrationError):
    """The sender lacks the role the method needs."""


class UnknownAssetType(RegistrationError, code=102):
    """The asset type is not one of ``types.ASSET_TYPES``."""


class InvalidCapacity(RegistrationError, code=103):
    """Capacity <= 0, above the genesis limit, or energy on a non-storage asset."""


class DuplicateSerial(RegistrationError, code=104):
    """The equipment serial already backs another asset."""


class UnknownZone(RegistrationError, code=105):
    """No zone with that id; a DSO creates it with set_zone."""


class MetadataTooLarge(RegistrationError, code=106):
    """The producer metadata is above ``max_metadata_bytes``."""


class SelfAttestation(RegistrationError, errors.AuthorizationError, code=107):
    """A certifier attesting or certifying its own asset."""


class ProducerExists(RegistrationError, code=108):
    """The account already has a producer profile."""


class UnknownProducer(RegistrationError, code=109):
    """The account has no producer profile."""


class UnknownAsset(RegistrationError, code=110):
    """No asset with that id."""


class InvalidTransition(RegistrationError, code=111):
    """The asset's status does not allow this step of the workflow."""


class NotZoneOperator(RegistrationError, errors.AuthorizationError, code=112):
    """Only the DSO operating the zone may do this."""


class HostingCapacityExceeded(RegistrationError, code=113):
    """Approving the asset would take its zone above its hosting capacity."""


class UnknownScheme(RegistrationError, code=114):
    """The certification scheme is not one of ``types.SCHEMES``."""


class InvalidValidity(RegistrationError, code=115):
    """A certification's validity window that is empty or out of range."""


class DuplicateCertificate(RegistrationError, code=116):
    """The (scheme, certificate id) is already attached to an asset."""


class NotAuthorized(RegistrationError, errors.AuthorizationError, code=117):
    """Neither the owner nor an authority over the asset."""


class StaleRevision(RegistrationError, code=118):
    """The asset changed since the attestation or approval was prepared."""


class MeterAlreadyBound(RegistrationError, code=119):
    """The meter is bound to another asset."""


class UnknownProducerKind(RegistrationError, code=120):
    """The producer kind is not one of ``types.PRODUCER_KINDS``."""


class InvalidLocation(RegistrationError, code=121):
    """Latitude or longitude outside their micro-degree range."""


class NothingChanged(RegistrationError, code=122):
    """The update changes nothing."""


class NotRenewable(RegistrationError, code=123):
    """Renewable certifications are for solar, wind, hydro, biomass, geothermal."""


class RecordNotFound(errors.RecordNotFound, codespace="registration"):
    """A query for a zone, producer or asset that does not exist."""
