"""Consensus. For now: the application interface the engine drives."""
