"""Errors of the trading module (codespace "trading")."""

from __future__ import annotations

from wattchain.vm.errors import QueryError, TxError


class TradingError(TxError):
    codespace = "trading"
    code = 100


class InvalidOrderArgs(TradingError):
    code = 101


class GateClosed(TradingError):
    code = 102


class NotOwner(TradingError):
    code = 103


class OrderNotOpen(TradingError):
    code = 104


class NoCapacity(TradingError):
    code = 105


class OutsidePriceBand(TradingError):
    code = 106


class UnknownOrder(TradingError):
    code = 107


class NotDso(TradingError):
    code = 108


class TooManyOrders(TradingError):
    code = 109


class CertificateError(TradingError):
    code = 110


class MarketSuspended(TradingError):
    """An emergency in the zone suspended its market, or caps its prices."""

    code = 111


class TradingRecordNotFound(QueryError):
    """A query for an order or clearing that does not exist."""

    codespace = "trading"
    code = 150
