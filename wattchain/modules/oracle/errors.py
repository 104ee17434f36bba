"""Errors of the oracle module (codespace "oracle").

Codes are public and never change meaning; append new ones.
"""

from __future__ import annotations

from wattchain.vm import errors


class OracleError(errors.TxError, codespace="oracle", code=100):
    """Base of the oracle module's errors."""


class MissingRole(errors.MissingRole, OracleError):
    """The sender is not an oracle account (role granted by the admin quorum)."""


class UnknownFeed(OracleError, code=102):
    """The feed is not one of ``types.FEEDS``."""


class RoundInFuture(OracleError, code=103):
    """The round has not started yet at the block's time."""


class RoundTooOld(OracleError, code=104):
    """The round ended more than ``window_rounds`` rounds ago."""


class DuplicateSubmission(OracleError, code=105):
    """This oracle already submitted a value for this (feed, zone, round)."""


class ValueOutOfRange(OracleError, code=106):
    """The value lies outside the feed's plausible range."""


class RecordNotFound(errors.RecordNotFound, codespace="oracle", code=120):
    """A query for a feed value or round that does not exist."""


class OracleGenesisError(errors.CodedError):
    """A genesis section the oracle module cannot import."""
