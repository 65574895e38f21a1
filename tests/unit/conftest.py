"""Unit tests run in milliseconds: any subprocess or network connection fails the test loudly."""

from tests.guards import _no_processes_or_network

__all__ = ["_no_processes_or_network"]
