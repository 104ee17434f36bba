"""WattChain: a permissioned consortium blockchain for community energy markets."""

__version__ = "0.1.0"
