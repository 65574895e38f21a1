"""Fixtures: the fake GitHub (API, uploads and storage hosts on loopback) and a clock that never
sleeps.

Imported by the conftest files of the test folders that talk to GitHub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from mlgate.github.client import GitHubClient, RetryPolicy
from tests.github.fake import FakeGitHub


class Clock:
    """A fake clock: ``sleep`` advances it, so waits are recorded and cost nothing."""

    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _storage_server() -> HTTPServer:
    """The storage host on a second loopback address (another host, not just another port),
    where the system routes one (Linux routes all of 127/8); else another port of 127.0.0.1."""
    for host in ("127.0.0.2", "127.0.0.1"):
        server = HTTPServer(host=host)
        try:
            server.start()
        except OSError:
            continue
        return server
    raise RuntimeError("no loopback address to serve the fake storage host on")


@pytest.fixture(scope="session")
def _servers() -> Iterator[tuple[HTTPServer, HTTPServer, HTTPServer]]:
    """Three loopback servers for the whole session (stopping one takes a poll interval)."""
    api, uploads = HTTPServer(host="127.0.0.1"), HTTPServer(host="127.0.0.1")
    api.start()
    uploads.start()
    storage = _storage_server()
    try:
        yield api, uploads, storage
    finally:
        api.stop()
        uploads.stop()
        storage.stop()


@pytest.fixture
def github(_servers: tuple[HTTPServer, HTTPServer, HTTPServer]) -> Iterator[FakeGitHub]:
    """A fresh fake GitHub; the test fails if any request broke GitHub's OpenAPI description."""
    api, uploads, storage = _servers
    for server in _servers:
        server.clear()
    fake = FakeGitHub(api, uploads, storage).start()
    yield fake
    assert fake.violations == [], "requests or answers that break GitHub's OpenAPI description"


@pytest.fixture
def client(github: FakeGitHub, clock: Clock) -> GitHubClient:
    policy = RetryPolicy(sleep=clock.sleep, clock=clock.time, jitter=lambda: 1.0)
    return GitHubClient.from_env(github.env, retry=policy)
