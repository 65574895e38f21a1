"""The registry section of mlgate.yaml: schema errors point at the line, policy parses."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.config.loader import load_config
from mlgate.errors import ConfigError
from mlgate.registry.github_release import GitHubReleaseRequest, release_notes
from mlgate.registry.policy import policy_for

HEAD = (
    "version: 1\nmodels:\n  - name: churn\n    path: m\n"
    "    model: {file: model.skops, task: regression}\n"
)


def config(tmp_path: Path, registry: str) -> Path:
    (tmp_path / "m").mkdir()
    path = tmp_path / "mlgate.yaml"
    path.write_text(HEAD + "    registry:\n" + registry)
    return path


@pytest.mark.parametrize(
    ("section", "needle"),
    [
        ("      stages: [staging, staging]\n", "non-unique"),
        ("      stages: [pr od]\n", "does not match"),
        ("      stages: []\n", "should be non-empty"),
        ("      stage: [prod]\n", "stage"),
        ("      sign: yes please\n", "expected true or false"),
    ],
)
def test_bad_registry_sections(tmp_path: Path, section: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(config(tmp_path, section))
    assert needle in info.value.message
    assert info.value.location is not None
    assert info.value.location.line == 7


def test_policy_from_config(tmp_path: Path) -> None:
    cfg = load_config(
        config(tmp_path, "      stages: [staging, prod]\n      require_order: true\n")
    )
    policy = policy_for(cfg, "churn")
    assert policy.stages == ("staging", "prod")
    assert policy.require_order
    assert policy.where is not None
    assert policy.where.line == 7  # the stages line, where a wrong stage would be fixed
    assert policy.where.key_path == "models[0].registry.stages"
    assert policy_for(cfg, "other").stages is None


def test_release_notes() -> None:
    notes = release_notes(
        GitHubReleaseRequest(
            "churn",
            "v1.0.0",
            "churn@v1.0.0",
            "a" * 40,
            {
                "model": "churn",
                "version": "v1.0.0",
                "metrics": {"roc_auc": 0.912345678},
                "verdicts": {"validation": {"digest": "sha256:" + "1" * 64, "ok": False}},
                "image": {"reference": "ghcr.io/acme/churn:v1.0.0"},
                "note": "first",
            },
        )
    )
    assert "| roc_auc | 0.912346 |" in notes
    assert "- validation: FAIL" in notes
    assert "ghcr.io/acme/churn:v1.0.0" in notes
    assert notes.endswith("first\n")
