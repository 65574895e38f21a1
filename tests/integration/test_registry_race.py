"""Races: 16 processes writing one registry through one bare remote at the same time, on a
machine kept busy by two CPU-bound processes.

Every writer must succeed (retries are bounded by a deadline, not by a small number of tries),
every success is on the remote exactly once, versions and counters are unique, no clone keeps a
tag the remote refused, and every clone (and GTO, when GTO_VENV names it) replays the remote's
tags to the same state. Each test prints the race's wall time and the attempts per writer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mlgate import proc
from tests.integration.registry_support import (
    bare_remote,
    clone,
    commit,
    git,
    mlgate_json,
    remote_tags,
    spawn,
    tags,
)

PROCESSES = 16
GTO_VENV = os.environ.get("GTO_VENV")
# Each CPU hog stops by itself after this long, even if the test process dies.
_HOG = "import time\nend = time.monotonic() + 900\nwhile time.monotonic() < end:\n    pass\n"


@pytest.fixture
def busy_machine() -> Iterator[None]:
    """Two CPU-bound processes running beside the race (ended when the test ends)."""
    hogs = [subprocess.Popen([sys.executable, "-c", _HOG]) for _ in range(2)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def _origin(tmp_path: Path, models: dict[str, int]) -> tuple[Path, Path, dict[str, list[str]]]:
    """A bare remote whose models have the given numbers of registered versions."""
    origin = bare_remote(tmp_path / "origin.git")
    seed = clone(origin, tmp_path / "seed")
    commit(seed, "first")
    git(seed, "push", "--quiet", "origin", "main")
    versions: dict[str, list[str]] = {}
    for name, count in models.items():
        for i in range(count):
            commit(seed, f"{name} {i}")
            git(seed, "push", "--quiet", "origin", "main")
            out = mlgate_json(seed, "registry", "register", name, "--push")
            versions.setdefault(name, []).append(out["version"])
    return origin, seed, versions


@dataclass
class Job:
    kind: str
    model: str
    process: subprocess.Popen[str]
    commit: str | None = None


@dataclass
class Race:
    jobs: list[Job] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    results: list[tuple[Job, dict[str, object]]] = field(default_factory=list)
    wall: float = 0.0

    def finish(self) -> None:
        for job in self.jobs:
            out, err = job.process.communicate(timeout=900)
            assert "Traceback" not in err, err
            assert job.process.returncode == 0, (job.kind, job.model, job.process.returncode, err)
            self.results.append((job, json.loads(out)))
        self.wall = time.monotonic() - self.started

    def report(self, what: str) -> None:
        attempts = sorted(int(str(r["attempts"])) for _, r in self.results)
        slowest = max(float(str(r["seconds"])) for _, r in self.results)
        # pytest -s shows it; the closing note of the race quotes these numbers.
        print(
            f"\n{what}: {len(self.results)} writers in {self.wall:.1f} s wall "
            f"(slowest writer {slowest:.1f} s); attempts per writer {attempts}, "
            f"total {sum(attempts)}"
        )


def _check_remote_matches(seed: Path, clones: list[Path], race: Race) -> set[str]:
    on_remote = remote_tags(seed)
    for c in clones:
        assert tags(c) <= on_remote, f"{c.name} kept a tag the remote refused"
    for _, result in race.results:
        assert result["pushed"] is True, result
        assert result["tag"] in on_remote, result
    return on_remote


def _same_state_everywhere(seed: Path, clones: list[Path], models: list[str]) -> None:
    """Every clone, once fetched, replays the remote's tags to one state; GTO reads the same."""
    for name in models:
        states = set()
        for c in (seed, clones[0], clones[-1]):
            git(c, "fetch", "--quiet", "--tags", "--force", "origin")
            shown = mlgate_json(c, "registry", "show", name)
            states.add(json.dumps({k: shown[k] for k in ("latest", "stages", "versions")}))
        assert len(states) == 1, name
    if not GTO_VENV:
        return
    gto = Path(GTO_VENV, "bin", "gto")
    theirs = json.loads(proc.run([gto, "show", "--json"], cwd=seed).stdout)
    ours = {m["name"]: m for m in mlgate_json(seed, "registry", "show")["models"]}
    assert set(theirs) == set(ours)
    for name, state in theirs.items():
        assert state["version"] == ours[name]["latest"], name
        held = {s: v for s, v in state["stage"].items() if v is not None}
        assert held == ours[name]["stages"], name


@pytest.mark.slow
@pytest.mark.usefixtures("busy_machine")
def test_sixteen_bump_registrations_all_succeed_with_unique_versions(tmp_path: Path) -> None:
    origin, seed, existing = _origin(tmp_path, {"churn": 2})
    clones = [clone(origin, tmp_path / f"p{i:02d}") for i in range(PROCESSES)]
    commits = [commit(c, f"model from {c.name}") for c in clones]
    race = Race()
    race.jobs = [
        Job("register", "churn", spawn(c, "register", "churn", "--bump", "patch"), sha)
        for c, sha in zip(clones, commits, strict=True)
    ]
    race.finish()
    race.report("16 x register --bump patch --push")

    versions = [str(r["version"]) for _, r in race.results]
    assert len(set(versions)) == PROCESSES, versions
    assert not set(versions) & set(existing["churn"])
    for job, result in race.results:
        assert result["commit"] == job.commit
    on_remote = _check_remote_matches(seed, clones, race)
    # Nothing lost, nothing duplicated: exactly the 2 + 16 registrations, v0.0.1 .. v0.0.18.
    assert {t for t in on_remote if "@" in t} == {f"churn@v0.0.{i}" for i in range(1, 19)}
    _same_state_everywhere(seed, clones, ["churn"])


@pytest.mark.slow
@pytest.mark.usefixtures("busy_machine")
def test_sixteen_assignments_all_succeed_with_unique_counters(tmp_path: Path) -> None:
    origin, seed, existing = _origin(tmp_path, {"churn": 4})
    clones = [clone(origin, tmp_path / f"p{i:02d}") for i in range(PROCESSES)]
    stages = ("dev", "staging", "canary", "prod")
    pairs = [(v, s) for v in existing["churn"] for s in stages]  # 16 distinct assignments
    race = Race()
    race.jobs = [
        Job("assign", "churn", spawn(c, "assign", "churn", v, s))
        for c, (v, s) in zip(clones, pairs, strict=True)
    ]
    race.finish()
    race.report("16 x assign --push")

    counters = [int(str(r["counter"])) for _, r in race.results]
    assert sorted(counters) == list(range(1, PROCESSES + 1)), counters
    assert all(r["created"] for _, r in race.results)
    on_remote = _check_remote_matches(seed, clones, race)
    assert len([t for t in on_remote if "#" in t]) == PROCESSES
    _same_state_everywhere(seed, clones, ["churn"])


@pytest.mark.slow
@pytest.mark.usefixtures("busy_machine")
def test_sixteen_mixed_writers_over_four_models(tmp_path: Path) -> None:
    names = ["churn", "fraud", "models/ltv:ltv", "rank"]
    origin, seed, existing = _origin(tmp_path, dict.fromkeys(names, 1))
    clones = [clone(origin, tmp_path / f"p{i:02d}") for i in range(PROCESSES)]
    race = Race()
    for i, c in enumerate(clones):
        name = names[i % 4]
        if i < PROCESSES // 2:
            sha = commit(c, f"{name} from {c.name}")
            race.jobs.append(Job("register", name, spawn(c, "register", name), sha))
        else:
            stage = ("staging", "prod")[(i // 4) % 2]
            process = spawn(c, "assign", name, existing[name][0], stage)
            race.jobs.append(Job("assign", name, process))
    race.finish()
    race.report("16 mixed writers, 4 models")

    for name in names:
        mine = [r for j, r in race.results if j.model == name]
        registered = [str(r["version"]) for r in mine if r["event"] == "register"]
        assert sorted(registered) == ["v0.0.2", "v0.0.3"], (name, registered)
        counters = [int(str(r["counter"])) for r in mine if r["event"] == "assign"]
        assert sorted(counters) == [1, 2], (name, counters)
    _check_remote_matches(seed, clones, race)
    _same_state_everywhere(seed, clones, names)
    history = mlgate_json(seed, "registry", "history", "--remote", "origin")
    assert len(history["events"]) == len(remote_tags(seed))


def test_a_counter_claimed_by_a_deleted_tag_is_skipped(tmp_path: Path) -> None:
    """A claim left by a tag someone deleted by hand does not block the counter forever."""
    _, seed, existing = _origin(tmp_path, {"churn": 1})
    claim = f"refs/tags/churn@{existing['churn'][0]}:refs/mlgate/claims/churn/1"
    git(seed, "push", "--quiet", "origin", claim)
    version = existing["churn"][0]
    result = mlgate_json(seed, "registry", "assign", "churn", version, "staging", "--push")
    assert result["counter"] == 2
    assert result["attempts"] == 2
    assert "churn#staging#2" in remote_tags(seed)
