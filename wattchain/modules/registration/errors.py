"""Errors of the registration module (codespace "registration").

Codes are public and never change meaning; append new ones.
"""

from __future__ import annotations

from wattchain.vm.errors import QueryError, TxError


class RegistrationError(TxError):
    codespace = "registration"
    code = 100


class MissingRole(RegistrationError):
    """The sender lacks the role the method needs."""

    code = 101


class UnknownAssetType(RegistrationError):
    code = 102


class InvalidCapacity(RegistrationError):
    """Capacity <= 0, above the genesis limit, or energy on a non-storage asset."""

    code = 103


class DuplicateSerial(RegistrationError):
    code = 104


class UnknownZone(RegistrationError):
    code = 105


class MetadataTooLarge(RegistrationError):
    code = 106


class SelfAttestation(RegistrationError):
    """A certifier attesting or certifying its own asset."""

    code = 107


class ProducerExists(RegistrationError):
    code = 108


class UnknownProducer(RegistrationError):
    code = 109


class UnknownAsset(RegistrationError):
    code = 110


class InvalidTransition(RegistrationError):
    """The asset's status does not allow this step of the workflow."""

    code = 111


class NotZoneOperator(RegistrationError):
    code = 112


class HostingCapacityExceeded(RegistrationError):
    code = 113


class UnknownScheme(RegistrationError):
    code = 114


class InvalidValidity(RegistrationError):
    code = 115


class DuplicateCertificate(RegistrationError):
    code = 116


class NotAuthorized(RegistrationError):
    """Neither the owner nor an authority over the asset."""

    code = 117


class StaleRevision(RegistrationError):
    """The asset changed since the attestation or approval was prepared."""

    code = 118


class MeterAlreadyBound(RegistrationError):
    code = 119


class UnknownProducerKind(RegistrationError):
    code = 120


class InvalidLocation(RegistrationError):
    code = 121


class NothingChanged(RegistrationError):
    code = 122


class NotRenewable(RegistrationError):
    """Renewable certifications are for solar, wind, hydro, biomass, geothermal."""

    code = 123


class RecordNotFound(QueryError):
    """A query for a zone, producer or asset that does not exist."""

    codespace = "registration"
    code = 150
