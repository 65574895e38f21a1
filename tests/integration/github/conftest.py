"""The fake GitHub and a clock that never sleeps (see tests.github.fixtures)."""

from tests.github.fixtures import Clock, _servers, client, clock, github

__all__ = ["Clock", "_servers", "client", "clock", "github"]
