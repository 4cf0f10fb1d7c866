"""The terminal interface: a thin adapter over the Python API."""
