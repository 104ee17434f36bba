"""The `wattchain` command-line wallet and node tools."""
