"""Peer-to-peer transport: long-lived framed streams between validators."""
