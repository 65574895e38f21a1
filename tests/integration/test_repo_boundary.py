"""Paths stay inside the repository: configured paths and every file the lock hashes.

A pull request controls mlgate.yaml and the files; a symlink to /etc, a device, a fifo or a
``../..`` path must be refused (exit 2, naming the link and its target) before anything is
read, while links that stay inside the repository keep working.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import invoke


def configure(starter: Path, old: str, new: str) -> None:
    config = starter / "mlgate.yaml"
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))


def with_extra(starter: Path) -> Path:
    configure(
        starter, "      target: churned\n", "      target: churned\n      extra: [data/extra]\n"
    )
    extra = starter / "models" / "churn" / "data" / "extra"
    extra.mkdir(parents=True)
    (extra / "notes.txt").write_text("inside\n")
    return extra


def test_a_symlink_out_of_the_repository_is_never_hashed(starter: Path) -> None:
    extra = with_extra(starter)
    (extra / "etcdir").symlink_to("/etc")
    result = invoke("lock", cwd=starter)
    assert result.exit_code == 2, result.output
    assert f"{extra / 'etcdir'} is a symbolic link to /etc, outside the repository" in result.stderr
    lock = starter / "mlgate.lock"
    assert not lock.exists() or "shadow" not in lock.read_text()


def test_a_linked_file_leaving_the_repository_is_refused(starter: Path, tmp_path: Path) -> None:
    extra = with_extra(starter)
    secret = tmp_path / "secret.txt"
    secret.write_text("private\n")
    (extra / "secret.txt").symlink_to(secret)
    result = invoke("lock", cwd=starter)
    assert result.exit_code == 2, result.output
    assert f"is a symbolic link to {secret}" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs fifos")
def test_a_fifo_or_device_in_a_data_folder_is_refused(starter: Path) -> None:
    extra = with_extra(starter)
    os.mkfifo(extra / "pipe")
    result = invoke("lock", cwd=starter)
    assert result.exit_code == 2, result.output
    assert "not a regular file or folder" in result.stderr
    (extra / "pipe").unlink()
    (extra / "zero").symlink_to("/dev/zero")
    result = invoke("lock", cwd=starter)
    assert result.exit_code == 2, result.output
    assert "/dev/zero" in result.stderr


def test_links_inside_the_repository_keep_working(starter: Path) -> None:
    extra = with_extra(starter)
    (extra / "train-copy.csv").symlink_to("../train.csv")
    (extra / "same").symlink_to(extra.parent)
    result = invoke("lock", cwd=starter)
    assert result.exit_code == 0, result.output
    assert "train-copy.csv" in (starter / "mlgate.lock").read_text()


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("file: artifacts/model.skops", "file: ../../../x.skops", "model.file '../../../x.skops'"),
        ("train: data/train.csv", "train: /etc/passwd", "data.train '/etc/passwd'"),
        ("card: model_card.yaml", "card: ../../../../card.yaml", "governance.card"),
        ("path: models/churn", "path: ../elsewhere", "path '../elsewhere'"),
    ],
)
def test_configured_paths_outside_the_repository_are_refused(
    starter: Path, old: str, new: str, named: str
) -> None:
    configure(starter, old, new)
    for command in (("config", "check"), ("scan",), ("lock",), ("validate",)):
        result = invoke(*command, cwd=starter)
        assert result.exit_code == 2, (command, result.output)
        assert named in result.stderr, command
        assert "outside the repository" in result.stderr, command


def test_a_configured_symlink_leaving_the_repository_names_link_and_target(
    starter: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text((starter / "models/churn/data/train.csv").read_text())
    link = starter / "models" / "churn" / "data" / "linked.csv"
    link.symlink_to(outside)
    configure(starter, "train: data/train.csv", "train: data/linked.csv")
    result = invoke("config", "check", cwd=starter)
    assert result.exit_code == 2, result.output
    assert f"{link} is a symbolic link to {outside}, outside the repository" in result.stderr
