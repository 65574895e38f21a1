"""GTO's features, with GTO's flag names: each writes tags GTO reads identically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlgate import proc
from tests.conftest import Outcome
from tests.integration.registry_support import (
    bare_remote,
    clone,
    commit,
    git,
    mlgate,
    mlgate_json,
    new_repo,
    remote_tags,
    tags,
    write_config,
)

GTO_VENV = os.environ.get("GTO_VENV")


def gto_json(repo: Path, *args: str) -> Any:
    result = proc.run([Path(str(GTO_VENV), "bin", "gto"), *args, "--json"], cwd=repo)
    return json.loads(result.stdout)


def same_as_gto(repo: Path) -> None:
    """GTO reads the latest version and every stage holder as mlgate does (when installed)."""
    if not GTO_VENV:
        return
    ours = {m["name"]: m for m in mlgate_json(repo, "registry", "show", "-d")["models"]}
    theirs = gto_json(repo, "show", "--deprecated")
    assert set(theirs) == set(ours)
    for name, state in theirs.items():
        assert state["version"] == ours[name]["latest"], name
        held = {s: v for s, v in state["stage"].items() if v is not None}
        assert held == ours[name]["stages"], name


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return new_repo(tmp_path / "repo")


def test_assign_a_ref_registers_a_version_when_it_has_none(repo: Path) -> None:
    out = mlgate_json(repo, "registry", "assign", "churn", "HEAD", "--stage", "prod")
    assert (out["version"], out["tag"], out["registered"]) == (
        "v0.0.1",
        "churn#prod#1",
        "churn@v0.0.1",
    )
    assert tags(repo) == {"churn@v0.0.1", "churn#prod#1"}
    commit(repo, "two")
    out = mlgate_json(
        repo, "registry", "assign", "churn", "HEAD", "--stage", "staging", "--version", "v1.0.0"
    )
    assert (out["version"], out["registered"]) == ("v1.0.0", "churn@v1.0.0")
    # The version at the commit is reused, not registered twice.
    out = mlgate_json(repo, "registry", "assign", "churn", "HEAD", "--stage", "prod")
    assert (out["version"], out["registered"]) == ("v1.0.0", None)
    # GTO's form with the registered version as an option.
    out = mlgate_json(repo, "registry", "assign", "churn", "--version", "v0.0.1", "--stage", "dev")
    assert out["version"] == "v0.0.1"
    same_as_gto(repo)


def test_skip_registration_assigns_the_commit_itself(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    out = mlgate_json(repo, "registry", "assign", "churn", "HEAD", "--stage", "dev", "--sr")
    assert (out["version"], out["registered"]) == (sha, None)
    assert tags(repo) == {"churn#dev#1"}
    assert mlgate_json(repo, "registry", "show", "churn")["stages"] == {"dev": sha}
    mlgate(
        repo,
        "registry",
        "assign",
        "churn",
        "HEAD",
        "--stage",
        "x",
        "--sr",
        "--version",
        "v1.0.0",
        expect=2,
    )
    same_as_gto(repo)


def test_simple_stage_tags_are_written_once(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    out = mlgate_json(repo, "registry", "assign", "churn", "v0.0.1", "prod", "--simple")
    assert (out["tag"], out["counter"]) == ("churn#prod", None)
    same_as_gto(repo)
    out = mlgate_json(repo, "registry", "unassign", "churn", "prod", "--simple")
    assert out["tag"] == "churn#prod!"
    assert mlgate_json(repo, "registry", "show", "churn")["stages"] == {}
    same_as_gto(repo)
    result = mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod", "--simple", expect=2)
    assert "written once" in result.stderr
    # A counted tag still works after simple ones, and GTO agrees on who holds the stage.
    assert (
        mlgate_json(repo, "registry", "assign", "churn", "v0.0.1", "prod")["tag"] == "churn#prod#1"
    )
    same_as_gto(repo)


def test_unassign_all_empties_the_stage(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    commit(repo, "two")
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    mlgate(repo, "registry", "assign", "churn", "v0.0.2", "prod")
    mlgate(repo, "registry", "assign", "churn", "v0.0.2", "staging")
    out = mlgate_json(repo, "registry", "unassign", "churn", "prod", "--all")
    assert sorted(out["versions"]) == ["v0.0.1", "v0.0.2"]
    assert {"churn#prod!#4", "churn#prod!#5"} <= tags(repo)
    assert mlgate_json(repo, "registry", "show", "churn")["stages"] == {"staging": "v0.0.2"}
    mlgate(repo, "registry", "unassign", "churn", "prod", "--all", expect=2)
    same_as_gto(repo)


def test_register_force_registers_the_commit_s_version_again(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    result = mlgate(repo, "registry", "register", "churn", expect=2)
    assert "--force" in result.stderr
    mlgate(repo, "registry", "deregister", "churn", "v0.0.1")
    assert mlgate_json(repo, "registry", "show", "churn")["latest"] is None
    out = mlgate_json(repo, "registry", "register", "churn", "--force")
    assert (out["version"], out["tag"]) == ("v0.0.1", "churn@v0.0.1#1")
    assert mlgate_json(repo, "registry", "show", "churn")["latest"] == "v0.0.1"
    same_as_gto(repo)


def test_delete_removes_tags_here_and_on_the_remote(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path / "origin.git")
    repo = clone(origin, tmp_path / "repo")
    commit(repo, "one")
    mlgate(repo, "registry", "register", "churn", "--push")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod", "--push")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "staging", "--push")
    commit(repo, "two")
    mlgate(repo, "registry", "register", "churn", "--push")
    mlgate(repo, "registry", "register", "fraud", "--push")
    out = mlgate_json(repo, "registry", "unassign", "churn", "staging", "--delete", "--push")
    assert out["deleted"] == ["churn#staging#2"]
    out = mlgate_json(repo, "registry", "deregister", "churn", "v0.0.1", "--delete", "--push")
    assert sorted(out["deleted"]) == ["churn#prod#1", "churn@v0.0.1"]
    assert remote_tags(repo) == {"churn@v0.0.2", "fraud@v0.0.1"}
    out = mlgate_json(repo, "registry", "deprecate", "churn", "-d")  # local only
    assert out["deleted"] == ["churn@v0.0.2"]
    assert tags(repo) == {"fraud@v0.0.1"}
    assert remote_tags(repo) == {"churn@v0.0.2", "fraud@v0.0.1"}
    mlgate(repo, "registry", "deprecate", "churn", "--delete", expect=2)  # nothing left here


def test_history_newest_first(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    oldest = [e["tag"] for e in mlgate_json(repo, "registry", "history")["events"]]
    newest = [e["tag"] for e in mlgate_json(repo, "registry", "history", "--descending")["events"]]
    assert oldest == ["churn@v0.0.1", "churn#prod#1"]
    assert newest == oldest[::-1]
    asc = mlgate_json(repo, "registry", "history", "--asc")["events"]
    assert [e["tag"] for e in asc] == oldest


def test_show_filters_and_sort_as_gto(repo: Path) -> None:
    """--sort semver, --ro, --vs/--all-versions and --av against GTO's answers."""
    mlgate(repo, "registry", "register", "churn", "--version", "v2.0.0")
    commit(repo, "two")
    mlgate(repo, "registry", "register", "churn", "--version", "v1.0.0")
    commit(repo, "three")
    sha = git(repo, "rev-parse", "HEAD")
    mlgate(repo, "registry", "assign", "churn", "v2.0.0", "prod")
    mlgate(repo, "registry", "assign", "churn", "v1.0.0", "prod")
    mlgate(repo, "registry", "assign", "churn", "HEAD", "--stage", "dev", "--sr")
    mlgate(repo, "registry", "assign", "churn", "v1.0.0", "dev")
    mlgate(repo, "registry", "assign", "churn", "HEAD", "--stage", "dev", "--sr", "--force")

    def held(*flags: str) -> dict[str, Any]:
        return dict(mlgate_json(repo, "registry", "show", *flags)["models"][0]["stages"])

    assert held() == {"dev": sha, "prod": "v1.0.0"}
    assert held("--sort", "semver") == {"dev": "v1.0.0", "prod": "v2.0.0"}
    assert held("--ro") == {"dev": "v1.0.0", "prod": "v1.0.0"}
    every = mlgate_json(repo, "registry", "show", "--all-versions")["models"][0]["in_stage"]
    assert every == {"dev": [sha, "v1.0.0"], "prod": ["v1.0.0", "v2.0.0"]}
    one = mlgate_json(repo, "registry", "show", "churn", "--av", "1", "--ro")["versions"]
    assert [(v["version"], v["stages"]) for v in one] == [("v2.0.0", ["prod"]), ("v1.0.0", ["dev"])]
    if GTO_VENV:
        for flags in ([], ["--sort", "semver"], ["--ro"]):
            theirs = gto_json(repo, "show", *flags)["churn"]["stage"]
            assert {s: v for s, v in theirs.items() if v} == held(*flags), flags
        theirs = gto_json(repo, "show", "--vs", "-1")["churn"]["stage"]
        assert {s: v.split(", ") for s, v in theirs.items()} == every


def test_doctor_reports_every_problem_and_exits_1(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    out = mlgate_json(repo, "registry", "doctor")
    assert (out["ok"], out["tags"], out["models"]) == (True, 1, 1)
    git(repo, "tag", "churn#prod#1")  # lightweight
    git(repo, "tag", "-a", "-m", "x", "churn@1.0")  # almost the grammar
    out = mlgate_json(repo, "registry", "doctor", expect=1)
    assert sorted(p["kind"] for p in out["problems"]) == ["lightweight", "unrecognised"]
    text = mlgate(repo, "registry", "doctor", expect=1).stdout
    assert "2 problem(s)" in text


def test_stage_policy_as_a_graph(repo: Path) -> None:
    write_config(
        repo,
        {
            "stages": {
                "dev": ["staging", "canary"],
                "staging": ["prod"],
                "canary": ["prod"],
                "prod": [],
            }
        },
    )
    for i in range(3):
        commit(repo, f"model {i}")
        mlgate(repo, "registry", "register", "churn")

    def run(*args: str, expect: int = 0) -> Outcome:
        return mlgate(repo, "registry", "assign", "churn", *args, expect=expect)

    run("v0.0.1", "dev")
    run("v0.0.1", "canary")  # either branch follows dev
    run("v0.0.1", "prod")  # prod follows canary or staging
    failed = run("v0.0.2", "prod", expect=1)
    assert "before 'staging' or 'canary'" in failed.stderr
    run("v0.0.2", "staging", expect=1)  # staging needs dev first
    run("v0.0.3", "dev")  # an entry stage needs nothing
    run("v0.0.3", "qa", expect=2)  # not a stage at all
    mlgate(repo, "registry", "stages", "churn")
    (repo / "mlgate.yaml").write_text(
        (repo / "mlgate.yaml").read_text().replace('"prod": []', '"prod": ["live"]')
    )
    bad = run("v0.0.3", "staging", expect=2)
    assert "'live' follows a stage but is not a stage itself" in bad.stderr


def test_repo_url_writes_straight_to_the_remote(tmp_path: Path) -> None:
    """GTO's -r/--repo URL: no clone of one's own; the tags land on the remote only."""
    origin = bare_remote(tmp_path / "origin.git")
    seed = clone(origin, tmp_path / "seed")
    commit(seed, "one")
    git(seed, "push", "--quiet", "origin", "main")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    url = str(origin)
    out = mlgate_json(outside, "registry", "register", "churn", "-r", url)
    assert (out["version"], out["pushed"]) == ("v0.0.1", True)
    assert out["commit"] == git(seed, "rev-parse", "HEAD")
    out = mlgate_json(outside, "registry", "assign", "churn", "v0.0.1", "prod", "--repo", url)
    assert out["tag"] == "churn#prod#1"
    assert remote_tags(seed) == {"churn@v0.0.1", "churn#prod#1"}
    shown = mlgate_json(outside, "registry", "show", "-r", url)
    assert shown["models"][0]["stages"] == {"prod": "v0.0.1"}
    assert list(outside.iterdir()) == []  # the temporary clone is gone
    # A local work tree given with -r is used in place.
    assert mlgate_json(outside, "registry", "show", "-r", str(seed))["models"] == []
