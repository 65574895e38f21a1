"""Concurrency: 16 processes writing one registry through one bare remote at the same time.

Half register new versions (each from its own clone and commit), half assign already
registered versions to stages, all at once. Whatever the interleaving: every command either
succeeded or gave up cleanly (exit 3, saying so) after its bounded retries; every success is on
the remote exactly once; no version was given to two commits; assignment counters are unique;
no clone kept a tag the remote refused; and the remote's history replays to the same state in
every clone.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.registry_support import (
    bare_remote,
    clone,
    commit,
    git,
    mlgate,
    mlgate_json,
    remote_tags,
    spawn,
    tags,
)

PROCESSES = 16


def _origin_with_versions(tmp_path: Path, count: int) -> tuple[Path, Path, list[str]]:
    origin = bare_remote(tmp_path / "origin.git")
    seed = clone(origin, tmp_path / "seed")
    commit(seed, "first")
    git(seed, "push", "--quiet", "origin", "main")
    versions = []
    for i in range(count):
        commit(seed, f"existing {i}")
        git(seed, "push", "--quiet", "origin", "main")
        versions.append(mlgate_json(seed, "registry", "register", "churn", "--push")["version"])
    return origin, seed, versions


@dataclass
class Outcomes:
    registered: dict[str, str] = field(default_factory=dict)  # version -> commit
    counters: dict[str, int] = field(default_factory=dict)  # assignment tag -> counter
    created: dict[str, str] = field(default_factory=dict)  # assignment tag -> version
    ok: int = 0
    gave_up: int = 0

    def add(self, kind: str, process: subprocess.Popen[str], commit: str | None) -> None:
        out, err = process.communicate(timeout=600)
        assert "Traceback" not in err, err
        assert "internal error" not in err, err
        assert process.returncode in (0, 3), (kind, process.returncode, err)
        if process.returncode == 3:
            self.gave_up += 1
            assert "attempts" in err, err  # says what happened: gave up after N attempts
            return
        self.ok += 1
        data = json.loads(out)
        if kind == "register":
            assert data["version"] not in self.registered, "one version given to two commits"
            assert data["commit"] == commit
            self.registered[data["version"]] = data["commit"]
        elif data["created"]:
            # Two processes assigning the same version to the same stage in the same second
            # write byte-identical tags: the second push is "up to date", one tag exists.
            assert self.created.setdefault(data["tag"], data["version"]) == data["version"]
            self.counters[data["tag"]] = data["counter"]
        else:  # another process assigned the same version to the same stage first
            assert data["tag"] is not None, data
            assert data["notes"], data


@pytest.mark.slow
def test_sixteen_processes_register_and_assign_against_one_remote(tmp_path: Path) -> None:
    origin, seed, existing = _origin_with_versions(tmp_path, 4)
    half = PROCESSES // 2
    clones = [clone(origin, tmp_path / f"p{i:02d}") for i in range(PROCESSES)]
    new_commits = {c: commit(c, f"model from {c.name}") for c in clones[:half]}
    jobs: list[tuple[str, subprocess.Popen[str], str | None]] = []
    for i, c in enumerate(clones):
        if i < half:
            jobs.append(("register", spawn(c, "register", "churn"), new_commits[c]))
        else:
            stage = ("staging", "prod")[i % 2]
            jobs.append(("assign", spawn(c, "assign", "churn", existing[i % 4], stage), None))
    outcomes = Outcomes()
    for kind, process, sha in jobs:
        outcomes.add(kind, process, sha)

    numbers = list(outcomes.counters.values())
    assert len(numbers) == len(set(numbers)), f"a counter was used twice: {outcomes.counters}"
    assert not set(outcomes.registered) & set(existing)
    on_remote = remote_tags(seed)
    expected = {f"churn@{v}" for v in [*existing, *outcomes.registered]}
    assert {t for t in on_remote if "@" in t} == expected
    assert {t for t in on_remote if "#" in t} == set(outcomes.counters)
    for c in clones:
        assert tags(c) <= on_remote, f"{c.name} kept a tag the remote refused"
    # Most writers get through on their bounded retries (2 CPUs, 16 processes).
    assert outcomes.ok >= PROCESSES // 2, outcomes

    # Every clone, once fetched, replays the remote's tags to the same state.
    states = set()
    for c in (seed, clones[0], clones[-1]):
        git(c, "fetch", "--quiet", "--tags", "--force", "origin")
        shown = mlgate_json(c, "registry", "show", "churn")
        states.add(json.dumps({k: shown[k] for k in ("latest", "stages", "versions")}))
    assert len(states) == 1
    history = mlgate(seed, "registry", "history", "churn", "--remote", "origin", "--json")
    assert len(json.loads(history.stdout)["events"]) == len(on_remote)


def test_a_counter_claimed_by_a_deleted_tag_is_skipped(tmp_path: Path) -> None:
    """A claim left by a tag someone deleted by hand does not block the counter forever."""
    _, seed, existing = _origin_with_versions(tmp_path, 1)
    claim = f"refs/tags/churn@{existing[0]}:refs/mlgate/claims/churn/1"
    git(seed, "push", "--quiet", "origin", claim)
    result = mlgate_json(seed, "registry", "assign", "churn", existing[0], "staging", "--push")
    assert result["counter"] == 2
    assert result["attempts"] == 2
    assert "churn#staging#2" in remote_tags(seed)
