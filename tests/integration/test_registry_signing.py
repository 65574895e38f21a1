"""Signed registry tags (SSH signing) and verification when the policy requires it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate import proc
from tests.integration.registry_support import (
    git,
    mlgate,
    mlgate_json,
    new_repo,
    write_config,
)


@pytest.fixture
def signing_repo(tmp_path: Path) -> Path:
    repo = new_repo(tmp_path / "repo")
    key = tmp_path / "key"
    proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tests", "-f", str(key)])
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"tests@example.com {(tmp_path / 'key.pub').read_text()}")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingKey", str(key))
    git(repo, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    write_config(repo, {"sign": True, "verify": True})
    return repo


def test_signed_tags_verified_on_read(signing_repo: Path) -> None:
    out = mlgate_json(signing_repo, "registry", "register", "churn")
    assert out["signed"] is True
    mlgate(signing_repo, "registry", "assign", "churn", "v0.0.1", "prod")
    assert "SSH SIGNATURE" in git(signing_repo, "cat-file", "-p", "churn#prod#1")
    history = mlgate_json(signing_repo, "registry", "history", "churn")
    assert all(e["signed"] for e in history["events"])
    assert mlgate_json(signing_repo, "registry", "resolve", "churn#prod")["version"] == "v0.0.1"
    mlgate(signing_repo, "registry", "show")


def test_unsigned_tag_fails_verification(signing_repo: Path) -> None:
    mlgate(signing_repo, "registry", "register", "churn")
    # Someone assigns by hand, without signing.
    git(signing_repo, "tag", "-a", "--no-sign", "-m", "by hand", "churn#prod#1", "churn@v0.0.1^{}")
    result = mlgate(signing_repo, "registry", "resolve", "churn#prod", expect=1)
    assert "signature verification failed" in result.stderr
    assert "churn#prod#1" in result.stderr
    mlgate(signing_repo, "registry", "show", expect=1)


def test_signing_without_a_key_fails_cleanly(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingKey", str(tmp_path / "missing-key"))
    result = mlgate(repo, "registry", "register", "churn", "--sign", expect=3)
    assert "could not create tag 'churn@v0.0.1'" in result.stderr
    assert "signingKey" in result.stderr
    assert git(repo, "tag", "--list") == ""


def test_a_remote_read_verifies_the_remote_tags(signing_repo: Path, tmp_path: Path) -> None:
    """Tags read from a remote are not under refs/tags here: they are verified by object."""
    mlgate(signing_repo, "registry", "register", "churn")
    mlgate(signing_repo, "registry", "assign", "churn", "v0.0.1", "prod")
    reader = tmp_path / "reader"
    git(tmp_path, "clone", "--quiet", "--no-tags", str(signing_repo), str(reader))
    git(reader, "tag", "--delete", *git(reader, "tag", "--list").split(), check=False)
    for key in ("gpg.format", "user.signingKey", "gpg.ssh.allowedSignersFile"):
        git(reader, "config", key, git(signing_repo, "config", key))
    resolved = mlgate_json(reader, "registry", "resolve", "churn#prod", "--remote", "origin")
    assert resolved["version"] == "v0.0.1"
    mlgate(reader, "registry", "show", "--remote", "origin")
    assert git(reader, "tag", "--list") == ""
