"""The registry end to end through the CLI, on real git repositories in tmp dirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.integration.registry_support import (
    commit,
    git,
    mlgate,
    mlgate_json,
    new_repo,
    tags,
    write_config,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return new_repo(tmp_path / "repo")


def test_register_promote_rollback(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    out = mlgate_json(repo, "registry", "register", "churn")
    assert (out["tag"], out["version"], out["commit"]) == ("churn@v0.0.1", "v0.0.1", first)
    assert out["payload"]["commit"] == first
    assert out["payload"]["event"] == "register"
    assert mlgate_json(repo, "registry", "assign", "churn", "v0.0.1", "staging")["tag"] == (
        "churn#staging#1"
    )
    assert mlgate_json(repo, "registry", "assign", "churn", "v0.0.1", "prod")["counter"] == 2
    second = commit(repo, "retrained")
    out = mlgate_json(repo, "registry", "register", "churn", "--bump", "minor", "-m", "retrained")
    assert out["version"] == "v0.1.0"
    assert out["commit"] == second
    mlgate(repo, "registry", "assign", "churn", "v0.1.0", "staging")
    promoted = mlgate_json(repo, "registry", "assign", "churn", "v0.1.0", "prod")
    assert promoted["previous"] == "v0.0.1"
    assert promoted["holder"] == "v0.1.0"

    back = mlgate_json(repo, "registry", "rollback", "churn", "prod")
    assert (back["event"], back["version"], back["previous"]) == ("rollback", "v0.0.1", "v0.1.0")
    assert back["tag"] == "churn#prod#5"

    show = mlgate_json(repo, "registry", "show")
    assert show["models"] == [
        {
            "name": "churn",
            "latest": "v0.1.0",
            "stages": {"prod": "v0.0.1", "staging": "v0.1.0"},
            "deprecated": False,
            "versions": 2,
        }
    ]
    assert show["problems"] == []
    resolved = mlgate_json(repo, "registry", "resolve", "churn#prod")
    assert (resolved["version"], resolved["commit"], resolved["stage_tag"]) == (
        "v0.0.1",
        first,
        "churn#prod#5",
    )
    assert mlgate_json(repo, "registry", "resolve", "churn@latest")["commit"] == second
    assert mlgate_json(repo, "registry", "resolve", "churn@v0.1.0")["payload"]["note"] == (
        "retrained"
    )
    history = mlgate_json(repo, "registry", "history", "churn")
    assert [e["tag"] for e in history["events"]] == [
        "churn@v0.0.1",
        "churn#staging#1",
        "churn#prod#2",
        "churn@v0.1.0",
        "churn#staging#3",
        "churn#prod#4",
        "churn#prod#5",
    ]
    # Pinned GIT_COMMITTER_DATE, yet every tag time is distinct and increasing (GTO orders so).
    stamps = [e["timestamp"] for e in history["events"]]
    assert stamps == sorted(set(stamps))
    text = mlgate(repo, "registry", "show").stdout
    assert "churn" in text
    assert "v0.0.1" in text
    assert "churn#prod#5" in mlgate(repo, "registry", "history").stdout


def test_tag_message_is_a_line_then_the_payload(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn", "--version", "v1.0.0")
    message = git(repo, "tag", "--list", "--format=%(contents)", "churn@v1.0.0")
    first, blank, *rest = message.splitlines()
    assert first == "Register churn v1.0.0"
    assert blank == ""
    payload = json.loads("\n".join(rest))
    assert payload["model"] == "churn"
    assert payload["version"] == "v1.0.0"
    assert git(repo, "cat-file", "-t", "churn@v1.0.0") == "tag"


def test_check_ref_and_stages(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    info = mlgate_json(repo, "registry", "check-ref", "refs/tags/churn#prod#1")
    assert (info["event"], info["name"], info["version"], info["stage"]) == (
        "assign",
        "churn",
        "v0.0.1",
        "prod",
    )
    assert mlgate_json(repo, "registry", "check-ref", "refs/heads/main")["registry"] is False
    # Without REF (and without GITHUB_REF): the newest registry tag on HEAD, as --help says.
    head = mlgate_json(repo, "registry", "check-ref")
    assert head["registry"] is True
    assert head["ref"] in {"refs/tags/churn#prod#1", "refs/tags/churn@v0.0.1"}
    missing = mlgate(repo, "registry", "check-ref", "churn#prod#7", expect=2)
    assert "git fetch --tags" in missing.stderr
    stages = mlgate_json(repo, "registry", "stages")
    assert stages["models"]["churn"] == {
        "allowed": None,
        "used": ["prod"],
        "held": {"prod": "v0.0.1"},
    }


def test_check_ref_writes_step_outputs(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlgate(repo, "registry", "register", "churn")
    output = repo.parent / "github_output"
    output.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_REF", "refs/tags/churn@v0.0.1")
    mlgate(repo, "registry", "check-ref")
    text = output.read_text()
    assert "event<<" in text
    assert "\nregister\n" in text
    assert "\nv0.0.1\n" in text


def test_unassign_deregister_deprecate(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    commit(repo, "two")
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "assign", "churn", "v0.0.2", "prod")
    out = mlgate_json(repo, "registry", "unassign", "churn", "prod")
    assert (out["tag"], out["version"], out["holder"]) == ("churn#prod!#3", "v0.0.2", "v0.0.1")
    assert out["notes"][0].startswith("prod falls back to v0.0.1")
    out = mlgate_json(repo, "registry", "deregister", "churn", "v0.0.1")
    assert out["tag"] == "churn@v0.0.1!"
    assert mlgate_json(repo, "registry", "show", "churn")["stages"] == {}
    mlgate(repo, "registry", "resolve", "churn#prod", expect=1)
    out = mlgate_json(repo, "registry", "deprecate", "churn")
    assert out["tag"] == "churn@deprecated"
    assert mlgate_json(repo, "registry", "show")["models"] == []  # hidden, as in GTO
    assert mlgate_json(repo, "registry", "show", "-d")["models"][0]["deprecated"] is True
    assert mlgate_json(repo, "registry", "show", "churn")["deprecated"] is True
    mlgate(repo, "registry", "assign", "churn", "v0.0.2", "prod", expect=2)
    mlgate(repo, "registry", "deprecate", "churn", expect=2)
    commit(repo, "three")
    revived = mlgate_json(repo, "registry", "register", "churn")
    assert revived["version"] == "v0.0.3"  # v0.0.1 was deregistered but is never reused
    assert any("active again" in n for n in revived["notes"])
    assert mlgate_json(repo, "registry", "show")["models"][0]["deprecated"] is False


def test_assign_is_idempotent_unless_forced(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    again = mlgate_json(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    assert again["created"] is False
    assert again["tag"] == "churn#prod#1"
    forced = mlgate_json(repo, "registry", "assign", "churn", "v0.0.1", "prod", "--force")
    assert forced["tag"] == "churn#prod#2"


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["register", "bad name"], 2, "invalid model name"),
        (["register", "churn", "--version", "1.0.0"], 2, "did you mean 'v1.0.0'"),
        (["register", "churn", "--version", "v1.0.0", "--bump", "patch"], 2, "either"),
        (["register", "churn", "--ref", "no-such-branch"], 2, "does not name a commit"),
        (["assign", "churn", "v9.0.0", "prod"], 2, "is not registered"),
        (["assign", "churn", "v0.0.1", "pr od"], 2, "invalid stage"),
        (["assign", "nope", "v0.0.1", "prod"], 2, "no model named 'nope'"),
        (["unassign", "churn", "prod"], 2, "holds 'prod'"),
        (["rollback", "churn", "prod"], 2, "nothing to roll back"),
        (["resolve", "churn"], 2, "cannot resolve"),
        (["resolve", "churn@v3.0.0"], 2, "is not registered"),
        (["resolve", "churn#prod"], 1, "no version of churn holds 'prod'"),
        (["register", "churn", "--release"], 2, "--release needs --push"),
    ],
)
def test_bad_input_leaves_no_tag(repo: Path, args: list[str], code: int, needle: str) -> None:
    mlgate(repo, "registry", "register", "churn")
    before = tags(repo)
    result = mlgate(repo, "registry", *args, expect=code)
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert tags(repo) == before


def test_version_and_commit_are_never_reused(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn", "--version", "v1.0.0")
    again = mlgate(repo, "registry", "register", "churn", expect=2)
    assert "already carries churn v1.0.0" in again.stderr
    commit(repo, "next")
    taken = mlgate(repo, "registry", "register", "churn", "--version", "v1.0.0", expect=2)
    assert "already registered" in taken.stderr
    mlgate(repo, "registry", "deregister", "churn", "v1.0.0")
    assert mlgate(repo, "registry", "assign", "churn", "v1.0.0", "prod", expect=2).stderr.count(
        "deregistered"
    )


def test_payload_file_and_verdicts(repo: Path, tmp_path: Path) -> None:
    extra = tmp_path / "payload.json"
    extra.write_text(
        json.dumps({"metrics": {"roc_auc": 0.91}, "image": {"reference": "ghcr.io/a/b:1"}})
    )
    verdict = tmp_path / "validation.json"
    verdict.write_text(
        json.dumps({"format": 1, "kind": "validation", "model": "churn", "ok": True, "checks": []})
    )
    out = mlgate_json(
        repo, "registry", "register", "churn", "--payload", str(extra), "--verdict", str(verdict)
    )
    assert out["payload"]["metrics"] == {"roc_auc": 0.91}
    assert out["payload"]["verdicts"]["validation"]["ok"] is True
    assert out["payload"]["verdicts"]["validation"]["digest"].startswith("sha256:")
    resolved = mlgate_json(repo, "registry", "resolve", "churn@v0.0.1")
    assert resolved["payload"]["image"] == {"reference": "ghcr.io/a/b:1"}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{oops", "not a readable JSON file"),
        ('{"metrics": {"auc": "high"}}', "metrics.auc"),
        ('{"unknown": 1}', "Additional properties"),
        ('{"version": "v7.0.0"}', "contradicts"),
    ],
)
def test_bad_payload_file_leaves_no_tag(
    repo: Path, tmp_path: Path, content: str, needle: str
) -> None:
    extra = tmp_path / "payload.json"
    extra.write_text(content)
    result = mlgate(repo, "registry", "register", "churn", "--payload", str(extra), expect=2)
    assert needle in result.stderr
    assert tags(repo) == set()


def test_corrupted_payload_in_a_hand_made_tag(repo: Path) -> None:
    git(
        repo,
        "tag",
        "-a",
        "-m",
        'Register churn v1.0.0\n\n{"model": "churn", "version": 1}',
        "churn@v1.0.0",
    )
    show = mlgate(repo, "registry", "show")
    assert "warning: churn@v1.0.0: corrupted payload" in show.stderr
    data = mlgate_json(repo, "registry", "show")
    assert data["problems"][0]["kind"] == "payload"
    resolved = mlgate(repo, "registry", "resolve", "churn@v1.0.0", expect=2)
    assert "churn@v1.0.0 has a corrupted payload" in resolved.stderr


def test_gto_style_plain_messages_are_fine(repo: Path) -> None:
    git(repo, "tag", "-a", "-m", "Registering artifact churn version v0.0.1", "churn@v0.0.1")
    resolved = mlgate_json(repo, "registry", "resolve", "churn@latest")
    assert resolved["version"] == "v0.0.1"
    assert resolved["payload"] is None


def test_lightweight_tags_are_reported_with_the_fix(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    git(repo, "tag", "churn#prod#1")  # what a shallow CI checkout can leave behind
    data = mlgate_json(repo, "registry", "show")
    problem = data["problems"][0]
    assert problem["kind"] == "lightweight"
    assert "git fetch --tags --force" in problem["hint"]
    assert data["models"][0]["stages"] == {}
    result = mlgate(repo, "registry", "check-ref", "churn#prod#1", expect=2)
    assert "lightweight" in result.stderr
    assert "git fetch --tags --force" in result.stderr
    # The lightweight tag still occupies its name: the next assignment skips to #2.
    assert mlgate_json(repo, "registry", "assign", "churn", "v0.0.1", "prod")["counter"] == 2


def test_monorepo_names(repo: Path) -> None:
    out = mlgate_json(repo, "registry", "register", "models/churn:churn")
    assert out["tag"] == "models/churn=churn@v0.0.1"
    mlgate(repo, "registry", "assign", "models/churn=churn", "v0.0.1", "prod")
    resolved = mlgate_json(repo, "registry", "resolve", "models/churn:churn#prod")
    assert resolved["name"] == "models/churn:churn"


def test_policy_from_config(repo: Path) -> None:
    write_config(repo, {"stages": ["staging", "prod"], "require_order": True})
    mlgate(repo, "registry", "register", "churn")
    before = tags(repo)
    wrong = mlgate(repo, "registry", "assign", "churn", "v0.0.1", "production", expect=2)
    assert "not allowed by the registry policy" in wrong.stderr
    assert "mlgate.yaml" in wrong.stderr
    early = mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod", expect=1)
    assert "before 'staging'" in early.stderr
    assert tags(repo) == before
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "staging")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    typo = mlgate(repo, "registry", "register", "chrun", expect=2)
    assert "did you mean 'churn'" in typo.stderr
    stages = mlgate_json(repo, "registry", "stages")
    assert stages["models"]["churn"]["allowed"] == ["staging", "prod"]
    resolved = mlgate_json(repo, "registry", "resolve", "churn#prod")
    extracted = Path(resolved["model_file"])
    assert extracted.read_text() == "weights\n"
    assert ".mlgate/cache/champions/churn/v0.0.1" in extracted.as_posix()


def test_require_passing(repo: Path, tmp_path: Path) -> None:
    write_config(repo, {"require_passing": True})
    failing = tmp_path / "validation.json"
    failing.write_text(
        json.dumps(
            {
                "format": 1,
                "kind": "validation",
                "model": "churn",
                "ok": False,
                "checks": [
                    {
                        "id": "roc_auc",
                        "kind": "metric",
                        "status": "fail",
                        "message": "too low",
                        "observed": 0.5,
                        "threshold": 0.8,
                        "champion": None,
                    }
                ],
            }
        )
    )
    mlgate(repo, "registry", "register", "churn", "--verdict", str(failing))
    result = mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod", expect=1)
    assert "failing verdicts (validation)" in result.stderr
    commit(repo, "unverified")
    mlgate(repo, "registry", "register", "churn")
    result = mlgate(repo, "registry", "assign", "churn", "v0.0.2", "prod", expect=1)
    assert "records no verdicts" in result.stderr


def test_register_records_committed_evidence(repo: Path) -> None:
    write_config(repo)
    out = mlgate_json(repo, "registry", "register", "churn")
    record = out["payload"]["model_file"]
    assert record["path"] == "models/churn/model.txt"
    assert record["size"] == len("weights\n")
    # Changing the working tree does not change what the registered commit holds.
    (repo / "models" / "churn" / "model.txt").write_text("tampered\n")
    resolved = mlgate_json(repo, "registry", "resolve", "churn@v0.0.1")
    assert Path(resolved["model_file"]).read_text() == "weights\n"


def test_reading_leaves_the_work_tree_clean(repo: Path) -> None:
    write_config(repo)
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "show")
    # Checked payloads are remembered in the git directory, where no commit can plant them.
    assert (repo / ".git" / "mlgate" / "registry" / "valid-payloads.txt").is_file()
    assert git(repo, "status", "--porcelain") == ""
    resolved = mlgate_json(repo, "registry", "resolve", "churn@latest")
    assert Path(resolved["model_file"]).is_file()
    assert git(repo, "status", "--porcelain") == ""  # .mlgate/cache ignores itself


def test_registry_help_stays_light(repo: Path) -> None:
    from mlgate import proc

    code = (
        "import sys\n"
        "from mlgate.cli.main import main\n"
        "rc = main(['registry', 'show', '--help'])\n"
        "heavy = [m for m in ('pandas', 'numpy', 'sklearn', 'jsonschema', 'requests')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    import sys

    assert proc.run([sys.executable, "-c", code], cwd=repo).stdout.strip().endswith("[]")


def test_one_model_reads_still_suggest_names(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "env/prod")  # '/' in a stage name
    assert mlgate_json(repo, "registry", "resolve", "churn#env/prod")["version"] == "v0.0.1"
    assert mlgate_json(repo, "registry", "assign", "churn", "v0.0.1", "qa")["counter"] == 2
    typo = mlgate(repo, "registry", "resolve", "churm#prod", expect=2)
    assert "did you mean 'churn'?" in typo.stderr


def test_quick_show_prints_what_the_click_command_prints(repo: Path) -> None:
    """`registry show` skips click when no configuration applies; its output is the same."""
    import sys

    from mlgate import proc

    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    commit(repo, "two")
    mlgate(repo, "registry", "register", "legacy")
    mlgate(repo, "registry", "deprecate", "legacy")
    git(repo, "tag", "churn#prod#9")  # a lightweight tag: a warning on stderr
    for args in (["--json"], [], ["churn", "--json"], ["churn"], ["-d", "--json"], ["-d"]):
        quick = proc.run([sys.executable, "-m", "mlgate", "registry", "show", *args], cwd=repo)
        full = invoke("registry", "show", *args, cwd=repo)
        assert (quick.stdout, quick.stderr) == (full.stdout, full.stderr), args


def test_quick_show_leaves_configured_repositories_to_click(repo: Path) -> None:
    from mlgate.cli import entry
    from mlgate.config.model import CONFIG_FILENAME

    assert entry.CONFIG_FILENAME == CONFIG_FILENAME
    assert not entry.config_applies(repo)
    write_config(repo, {"stages": ["staging", "prod"]})
    assert entry.config_applies(repo / "models")
    shown = mlgate_json(repo, "registry", "show")
    assert shown["models"] == []


def test_quick_show_remembers_its_answer_until_a_tag_changes(repo: Path) -> None:
    """The remembered answer is keyed by every tag's content: any change computes anew."""
    import sys

    from mlgate import proc

    def quick(*args: str) -> str:
        return proc.run(
            [sys.executable, "-m", "mlgate", "registry", "show", *args], cwd=repo
        ).stdout

    mlgate(repo, "registry", "register", "churn")
    first = quick("--json")
    cache = repo / ".git" / "mlgate" / "registry" / "show-json.txt"
    assert cache.is_file()
    assert quick("--json") == first
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    second = quick("--json")
    assert json.loads(second)["models"][0]["stages"] == {"prod": "v0.0.1"}
    # The same tag name on another object (deleted and made again) is a change too.
    git(repo, "tag", "--delete", "churn#prod#1")
    git(repo, "tag", "-a", "-m", "by hand", "churn#prod#1", "churn@v0.0.1^{}")
    third = json.loads(quick("--json"))
    assert third["models"][0]["stages"] == {"prod": "v0.0.1"}
    cache.write_text("garbage")  # a damaged file is ignored and replaced
    assert quick("--json") == invoke("registry", "show", "--json", cwd=repo).stdout
    assert quick() == invoke("registry", "show", cwd=repo).stdout
    assert not git(repo, "status", "--porcelain")
