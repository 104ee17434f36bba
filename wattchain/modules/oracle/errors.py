"""Errors of the oracle module (codespace "oracle").

Codes are public and never change meaning; append new ones.
"""

from __future__ import annotations

from wattchain.vm.errors import QueryError, TxError


class OracleError(TxError):
    codespace = "oracle"
    code = 100


class MissingRole(OracleError):
    """The sender is not an oracle account (role granted by the admin quorum)."""

    code = 101


class UnknownFeed(OracleError):
    code = 102


class RoundInFuture(OracleError):
    """The round has not started yet at the block's time."""

    code = 103


class RoundTooOld(OracleError):
    """The round ended more than ``window_rounds`` rounds ago."""

    code = 104


class DuplicateSubmission(OracleError):
    """This oracle already submitted a value for this (feed, zone, round)."""

    code = 105


class ValueOutOfRange(OracleError):
    """The value lies outside the feed's plausible range."""

    code = 106


class RecordNotFound(QueryError):
    """A query for a feed value or round that does not exist."""

    codespace = "oracle"
    code = 120
