"""Deterministic block execution: decode, verify, route, fees, events, app hash
(``execution``); the module skeleton every native module follows (``module``,
``interface``, ``fields``, ``errors``, ``params``, ``records``, ``state``)."""
