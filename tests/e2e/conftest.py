"""e2e fixtures: a real Docker engine, a debootstrapped base image and an htpasswd registry on
loopback (all started here, see infra.py), and a trained, committed starter project."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate import proc
from tests.e2e import infra

pytestmark = pytest.mark.e2e

GIT = ["git", "-c", "user.name=mlgate e2e", "-c", "user.email=e2e@example.com"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A Docker engine for the session; one the tests started is stopped at the end."""
    started = infra.ensure_engine(tmp_path_factory.getbasetemp())
    yield
    if started is not None:
        infra.stop_engine(started)


@pytest.fixture(scope="session")
def base_image(engine: None) -> str:
    return infra.ensure_base_image()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, base_image: str) -> Iterator[infra.Registry]:
    running = infra.Registry.start(tmp_path_factory.mktemp("registry"))
    yield running
    running.stop()
    infra.remove_images(running.host)


def make_project(folder: Path) -> Path:
    """The starter project, trained and committed (the model file is committed too)."""
    from mlgate.starter import InitRequest, init_project

    init_project(InitRequest(folder))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc.run([sys.executable, "train.py"], cwd=folder / "models" / "churn", env=env)
    for args in (["init", "-q", "-b", "main"], ["add", "-A", "-f"], ["commit", "-qm", "starter"]):
        proc.run([*GIT, *args], cwd=folder, env=env)
    return folder


def make_project_with_remote(folder: Path) -> Path:
    """``make_project`` in ``folder/project``, pushed to a bare ``folder/remote.git`` (origin)."""
    project = make_project(folder / "project")
    remote = folder / "remote.git"
    proc.run(["git", "init", "-q", "--bare", str(remote)])
    for args in (["remote", "add", "origin", str(remote)], ["push", "-q", "origin", "main"]):
        proc.run([*GIT, *args], cwd=project)
    return project


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("e2e") / "starter")


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheelhouse cache for every project of the session (MLGATE_CACHE_DIR)."""
    return tmp_path_factory.mktemp("wheel-cache")


@pytest.fixture(autouse=True)
def _shared_wheel_cache(wheel_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGATE_CACHE_DIR", str(wheel_cache))


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch, registry: infra.Registry) -> infra.Registry:
    monkeypatch.setenv("MLGATE_REGISTRY_USERNAME", registry.username)
    monkeypatch.setenv("MLGATE_REGISTRY_PASSWORD", registry.password)
    return registry
