"""Errors of the trading module (codespace "trading").

Codes are public and never change meaning; append new ones.
"""

from __future__ import annotations

from wattchain.vm import errors


class TradingError(errors.TxError, codespace="trading", code=100):
    """Base of the trading module's errors."""


class InvalidOrderArgs(TradingError, code=101):
    """An order's side, interval, energy, counterparty or asset is malformed."""


class GateClosed(TradingError, code=102):
    """The book of that interval closed (gate closure passed)."""


class NotOwner(TradingError, errors.AuthorizationError, code=103):
    """Only the owner of an order or certificate may change it, and of an asset sell
    from it."""


class OrderNotOpen(TradingError, code=104):
    """The order is filled, cancelled, expired or closed."""


class NoCapacity(TradingError, code=105):
    """The asset's capacity over the interval does not cover the open sells."""


class OutsidePriceBand(TradingError, code=106):
    """The price is outside the zone's price band."""


class UnknownOrder(TradingError, code=107):
    """No order with that id."""


class NotDso(TradingError, errors.AuthorizationError, code=108):
    """Only the zone's DSO may set its fee, band, mode, price or links."""


class TooManyOrders(TradingError, code=109):
    """The account has ``max_open_orders`` open orders."""


class CertificateError(TradingError, code=110):
    """A certificate that is unknown, not the sender's or already retired."""


class MarketSuspended(TradingError, code=111):
    """An emergency in the zone suspended its market, or caps its prices."""


class RecordNotFound(errors.RecordNotFound, codespace="trading"):
    """A query for an order or clearing that does not exist."""
