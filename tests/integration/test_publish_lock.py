"""The image is pinned to the training environment mlgate.lock recorded."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mlgate import proc
from mlgate.config.loader import load_config
from mlgate.errors import ConfigError
from mlgate.github.actions import RunContext
from mlgate.publish import wheelhouse
from mlgate.publish.metadata import build_bundle
from mlgate.publish.settings import PublishSettings
from tests.conftest import invoke


@pytest.fixture
def locked(starter: Path) -> Path:
    proc.run([sys.executable, "train.py"], cwd=starter / "models" / "churn")
    env = {k: v for k, v in os.environ.items() if k not in {"GIT_DIR", "GIT_WORK_TREE"}}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "starter"]):
        proc.run(["git", *args], cwd=starter, env=env)
    out = invoke("lock", cwd=starter)
    assert out.exit_code == 0, out.output
    return starter


def test_pins_are_the_locked_requirements_and_python_must_match(
    locked: Path, tmp_path: Path
) -> None:
    config = load_config(locked / "mlgate.yaml")
    model = config.model()
    settings = PublishSettings.from_model(config, model)
    reqs = wheelhouse.collect_requirements(model, settings)
    assert reqs.source == "requirements.txt"  # the file the lock recorded
    environment = wheelhouse.locked_environment(model)
    assert environment is not None
    for name, version in environment["packages"].items():
        assert f"{wheelhouse.normalize(name)}=={version}" in reqs.lines
    other = "3.99"
    with pytest.raises(ConfigError, match=f"trained with Python {environment['python']}"):
        wheelhouse.prepare(model, settings, wheelhouse.Target(other, "x86_64", "2.36"),
                           tmp_path, lambda _: None)  # fmt: skip


def test_model_json_carries_the_lock_fingerprint(locked: Path) -> None:
    config = load_config(locked / "mlgate.yaml")
    model = config.model()
    bundle = build_bundle(model, PublishSettings.from_model(config, model), version=None,
                          commit=None)  # fmt: skip
    assert str(bundle.metadata["fingerprint"]).startswith("sha256:")


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("git@github.com:acme/churn.git", "https://github.com/acme/churn"),
        ("https://user:token@github.com/acme/churn.git", "https://github.com/acme/churn"),
        ("/srv/git/churn.git", None),
    ],
)
def test_source_label_is_the_web_address_without_credentials(
    starter: Path, remote: str, expected: str | None
) -> None:
    from mlgate.publish.context import source_url

    proc.run(["git", "init", "-q"], cwd=starter)
    proc.run(["git", "remote", "add", "origin", remote], cwd=starter)
    model = load_config(starter / "mlgate.yaml").model()
    assert source_url(model, RunContext()) == expected


def test_source_label_in_github_actions(starter: Path) -> None:
    from mlgate.publish.context import source_url

    run = RunContext(server_url="https://github.example.com", repository="acme/churn")
    model = load_config(starter / "mlgate.yaml").model()
    assert source_url(model, run) == "https://github.example.com/acme/churn"
