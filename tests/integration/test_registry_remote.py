"""Remote registries: push without force, race-safe retries, rejections, reading a remote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.registry_support import (
    bare_remote,
    clone,
    commit,
    git,
    mlgate,
    mlgate_json,
    new_repo,
    remote_tags,
    spawn,
    tags,
)

WRITERS = 8


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    remote = bare_remote(tmp_path / "origin.git")
    seed = clone(remote, tmp_path / "seed")
    commit(seed, "first")
    git(seed, "push", "--quiet", "origin", "main")
    return remote


def test_push_and_read_from_another_clone(origin: Path, tmp_path: Path) -> None:
    alice = clone(origin, tmp_path / "alice")
    out = mlgate_json(alice, "registry", "register", "churn", "--push")
    assert out["pushed"]
    assert out["remote"] == "origin"
    mlgate(alice, "registry", "assign", "churn", "v0.0.1", "prod", "--push")
    assert remote_tags(alice) == {"churn@v0.0.1", "churn#prod#1"}

    bob = clone(origin, tmp_path / "bob")
    git(bob, "tag", "--delete", "churn@v0.0.1", "churn#prod#1")
    assert mlgate_json(bob, "registry", "show")["models"] == []
    remote = mlgate_json(bob, "registry", "show", "--remote", "origin")
    assert remote["source"] == "remote origin"
    assert remote["models"][0]["stages"] == {"prod": "v0.0.1"}
    # A read never writes: bob's tags are as they were, and the read's namespace is gone.
    assert tags(bob) == set()
    assert git(bob, "for-each-ref", "refs/mlgate") == ""


def test_reading_another_remote_leaves_refs_tags_untouched(origin: Path, tmp_path: Path) -> None:
    """show/history/resolve/stages --remote OTHER inside another repository: refs/tags (names
    and objects) and the packed-refs file are exactly as before, and no ref is left behind."""
    alice = clone(origin, tmp_path / "alice")
    mlgate(alice, "registry", "register", "churn", "--push")
    mlgate(alice, "registry", "assign", "churn", "v0.0.1", "prod", "--push")
    mlgate(alice, "registry", "register", "fraud", "--push")
    other = new_repo(tmp_path / "other")
    mlgate(other, "registry", "register", "local-model")
    git(other, "remote", "add", "upstream", str(origin))
    before = git(other, "for-each-ref", "--format=%(refname) %(objectname)")
    reads = [
        ["show", "--remote", "upstream"],
        ["show", "churn", "--remote", "upstream"],
        ["history", "--remote", "upstream"],
        ["resolve", "churn#prod", "--remote", "upstream", "--no-model-file"],
        ["stages", "--remote", "upstream"],
        ["next-version", "churn", "--remote", "upstream"],
    ]
    for args in reads:
        mlgate(other, "registry", *args, "--json")
        assert git(other, "for-each-ref", "--format=%(refname) %(objectname)") == before, args
    shown = mlgate_json(other, "registry", "show", "--remote", "upstream")
    assert [m["name"] for m in shown["models"]] == ["churn", "fraud"]
    assert mlgate_json(other, "registry", "show")["models"][0]["name"] == "local-model"


def test_stale_clone_recomputes_version_and_counter(origin: Path, tmp_path: Path) -> None:
    alice = clone(origin, tmp_path / "alice")
    bob = clone(origin, tmp_path / "bob")
    mlgate(alice, "registry", "register", "churn", "--push")
    mlgate(alice, "registry", "assign", "churn", "v0.0.1", "prod", "--push")
    commit(bob, "bob's model")
    # Bob has not fetched: locally he would register v0.0.1 again; --push reads origin first.
    out = mlgate_json(bob, "registry", "register", "churn", "--push")
    assert out["version"] == "v0.0.2"
    out = mlgate_json(bob, "registry", "assign", "churn", "v0.0.2", "prod", "--push")
    assert out["tag"] == "churn#prod#2"


def test_local_tag_that_diverged_from_the_remote(origin: Path, tmp_path: Path) -> None:
    alice = clone(origin, tmp_path / "alice")
    bob = clone(origin, tmp_path / "bob")
    mlgate(alice, "registry", "register", "churn", "--push")
    mlgate(bob, "registry", "register", "churn", "--version", "v0.0.1", "-m", "never pushed")
    # A read takes the remote's tag and warns; a write refuses until it is sorted out.
    result = mlgate(bob, "registry", "show", "churn", "--remote", "origin")
    assert "differs from the local tag of the same name; origin's is read" in result.stderr
    shown = mlgate_json(bob, "registry", "show", "churn", "--remote", "origin")
    assert shown["versions"][0]["summary"] != "never pushed"
    assert [p["kind"] for p in shown["problems"]] == ["diverged"]
    commit(bob, "another")
    result = mlgate(bob, "registry", "register", "churn", "--push", expect=2)
    assert "local tag 'churn@v0.0.1' differs from the one on 'origin'" in result.stderr
    assert "git fetch --force origin" in result.stderr


def test_rejected_push_leaves_nothing_behind(origin: Path, tmp_path: Path) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'registry tags are protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    alice = clone(origin, tmp_path / "alice")
    result = mlgate(alice, "registry", "register", "churn", "--push", expect=3)
    assert "origin refused the registry tag" in result.stderr
    assert "pre-receive hook declined" in result.stderr
    assert "registry tags are protected" in result.stderr
    assert tags(alice) == set()
    assert remote_tags(alice) == set()


def test_unknown_remote_is_an_external_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet")
    commit(repo, "x")
    result = mlgate(repo, "registry", "show", "--remote", "nowhere", expect=3)
    assert "cannot list the tags of remote 'nowhere'" in result.stderr
    result = mlgate(
        repo, "registry", "register", "churn", "--push", "--remote", "nowhere", expect=3
    )
    assert tags(repo) == set()


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        results.append((p.returncode, out, err))
    return results


@pytest.mark.slow
def test_concurrent_writers_against_one_remote(origin: Path, tmp_path: Path) -> None:
    clones = [clone(origin, tmp_path / f"writer{i}") for i in range(WRITERS)]
    commits = [commit(c, f"model from writer {i}") for i, c in enumerate(clones)]

    registered = _finish([spawn(c, "register", "churn") for c in clones])
    versions: dict[str, str] = {}
    for code, out, err in registered:
        assert code in (0, 3), err  # success, or a clean give-up after bounded retries
        assert "Traceback" not in err
        if code == 0:
            data = json.loads(out)
            versions[data["version"]] = data["commit"]
    assert len(versions) == sum(code == 0 for code, _, _ in registered)
    assert set(versions.values()) <= set(commits)

    # Everyone assigns their own version to staging at once; counters must stay unique.
    mine = dict(zip(clones, commits, strict=True))
    workers = [
        (c, next(v for v, sha in versions.items() if sha == mine[c]))
        for c in clones
        if mine[c] in versions.values()
    ]
    assigned = _finish([spawn(c, "assign", "churn", v, "staging") for c, v in workers])
    counters = []
    for code, out, err in assigned:
        assert code in (0, 3), err
        if code == 0:
            counters.append(json.loads(out)["counter"])
    assert len(counters) == len(set(counters))

    # Nothing lost, nothing extra: the remote holds exactly what succeeded...
    on_remote = remote_tags(clones[0])
    expected = {f"churn@{v}" for v in versions} | {f"churn#staging#{n}" for n in counters}
    assert on_remote == expected
    # ...and no clone kept a local registry tag the remote refused.
    for c in clones:
        assert tags(c) <= on_remote
    state = mlgate_json(clones[0], "registry", "history", "churn", "--remote", "origin")
    assert len(state["events"]) == len(expected)
    assert sum(code == 0 for code, _, _ in registered) >= WRITERS // 2, [
        e for _, _, e in registered
    ]
