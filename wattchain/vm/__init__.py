"""Deterministic block execution: decode, verify, route, fees, events, app hash."""
