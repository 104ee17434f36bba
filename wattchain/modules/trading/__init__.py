"""Peer-to-peer trading. So far: the uniform-price clearing function."""
