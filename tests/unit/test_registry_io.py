"""Parsing git's output, tag dates, push outcomes, payload messages and policy (no processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate import gitio, proc
from mlgate.errors import CheckFailed, ConfigError, ExternalError, UsageError
from mlgate.registry import transaction
from mlgate.registry.evidence import merge
from mlgate.registry.grammar import Kind
from mlgate.registry.payload import check_payload, compose_message, parse_payload
from mlgate.registry.policy import RegistryPolicy
from mlgate.registry.state import Event, build_state
from mlgate.registry.tags import FORMAT, parse_refs

C1 = "1" * 40


def record(*fields: str) -> str:
    return "".join(f"{f}\0" for f in fields) + "\n"


def test_format_has_one_nul_per_field() -> None:
    assert FORMAT.count("%00") == 12


def test_parse_refs_annotated_lightweight_and_signed() -> None:
    out = (
        record(
            "refs/tags/churn@v1.0.0",
            "tag",
            "a" * 40,
            "commit",
            C1,
            "Ann",
            "<ann@x.org>",
            "1700000000",
            "2023-11-14T22:13:20+00:00",
            "Register churn v1.0.0",
            '{\n  "model": "churn"\n}\n',
            "",
        )
        + record("refs/tags/light", "commit", C1, "", "", "", "", "", "", "c1", "body", "")
        + record(
            "refs/tags/churn#prod#1",
            "tag",
            "b" * 40,
            "commit",
            C1,
            "Bob",
            "<b@x.org>",
            "1700000001",
            "2023-11-14T22:13:21+00:00",
            "Assign",
            "",
            "-----BEGIN SSH SIGNATURE",
        )
    )
    tags = parse_refs(out)
    assert [t.name for t in tags] == ["churn@v1.0.0", "light", "churn#prod#1"]
    first, light, signed = tags
    assert first.annotated
    assert first.target == C1
    assert first.timestamp == 1700000000
    assert first.body.startswith("{")
    assert first.subject == "Register churn v1.0.0"
    assert not light.annotated
    assert light.target == C1
    assert light.target_type == "commit"
    assert signed.signed
    assert not first.signed


def test_parse_refs_empty() -> None:
    assert parse_refs("") == []


def test_compose_and_parse_message() -> None:
    payload = {"model": "churn", "version": "v1.0.0", "metrics": {"auc": 0.91}}
    message = compose_message("Register   churn\nv1.0.0", payload)
    subject, _, body = message.partition("\n\n")
    assert subject == "Register churn v1.0.0"
    assert parse_payload(body) == (payload, None)


def test_check_payload_names_the_problem() -> None:
    with pytest.raises(ConfigError) as info:
        check_payload({"model": "churn", "version": "1.0"}, "payload of churn@v1.0.0")
    assert "version" in info.value.message
    assert "churn@v1.0.0" in info.value.message
    assert check_payload({"model": "churn", "version": None, "extra": {"x": [1]}}, "p")


def test_merge_refuses_contradicting_owned_keys() -> None:
    base = {"model": "churn", "version": "v1.0.0", "commit": C1}
    assert merge(base, {"metrics": {"auc": 1.0}}, "p")["metrics"] == {"auc": 1.0}
    assert merge(base, {"version": "v1.0.0"}, "p")["version"] == "v1.0.0"
    with pytest.raises(UsageError, match="contradicts"):
        merge(base, {"version": "v2.0.0"}, "p")
    with pytest.raises(UsageError, match="JSON object"):
        merge(base, [1, 2], "p")


def assign_event(stage: str, counter: int, ts: int) -> Event:
    return Event(
        Kind.ASSIGN,
        "churn",
        f"churn#{stage}#{counter}",
        C1,
        stage=stage,
        counter=counter,
        timestamp=ts,
    )


def test_tag_date_is_after_every_event_of_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    state = build_state(
        [Event(Kind.REGISTER, "churn", "churn@v1.0.0", C1, version="v1.0.0", timestamp=2000000000)]
    )
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T00:00:00+02:00")
    assert transaction.tag_date(state, "churn") == "2000000001 +0200"
    assert transaction.tag_date(state, "other") == "1767218400 +0200"
    monkeypatch.setenv("GIT_COMMITTER_DATE", "@1767218400 -0130")
    assert transaction.tag_date(state, "other") == "1767218400 -0130"
    monkeypatch.setenv("GIT_COMMITTER_DATE", "Thu, 01 Jan 2026 00:00:00 +0000")
    assert transaction.tag_date(state, "other") == "1767225600 +0000"
    monkeypatch.setenv("GIT_COMMITTER_DATE", "yesterday noon")
    assert transaction.tag_date(state, "other") is None
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    assert transaction.tag_date(state, "churn") is not None


def fake_push(monkeypatch: pytest.MonkeyPatch, code: int, stdout: str, stderr: str = "") -> None:
    def push(*args: object, **kwargs: object) -> proc.Completed:
        return proc.Completed(("git", "push"), code, stdout, stderr)

    monkeypatch.setattr(gitio, "push_refspecs", push)


def test_push_accepted(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    fake_push(monkeypatch, 0, "To r\n*\trefs/tags/a:refs/tags/a\t[new tag]\nDone\n")
    transaction._push(tmp_path, "origin", ["refs/tags/a"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "line",
    [
        "!\trefs/tags/a:refs/tags/a\t[rejected] (already exists)",
        "!\trefs/tags/a:refs/tags/a\t[rejected] (fetch first)",
    ],
)
def test_push_lost_race_is_retried(monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    fake_push(monkeypatch, 1, f"To r\n{line}\nDone\n")
    with pytest.raises(transaction._Lost):
        transaction._push(None, "origin", ["refs/tags/a"])  # type: ignore[arg-type]


def test_push_refused_by_the_remote_is_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_push(
        monkeypatch,
        1,
        "To r\n!\trefs/tags/a:refs/tags/a\t[remote rejected] (pre-receive hook declined)\nDone\n",
        "remote: tags are protected",
    )
    with pytest.raises(ExternalError) as info:
        transaction._push(None, "origin", ["refs/tags/a"])  # type: ignore[arg-type]
    assert "pre-receive hook declined" in info.value.message
    assert any("tags are protected" in d for d in info.value.details)


def test_push_without_status_lines_is_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_push(monkeypatch, 128, "", "fatal: could not read from remote repository")
    with pytest.raises(ExternalError, match="exit code 128"):
        transaction._push(None, "origin", ["refs/tags/a"])  # type: ignore[arg-type]


def policy_state() -> tuple[RegistryPolicy, object]:
    events = [
        Event(
            Kind.REGISTER,
            "churn",
            "churn@v1.0.0",
            C1,
            version="v1.0.0",
            timestamp=1,
            payload_text=json.dumps(
                {
                    "model": "churn",
                    "version": "v1.0.0",
                    "verdicts": {"validation": {"digest": "sha256:" + "0" * 64, "ok": False}},
                }
            ),
        ),
        Event(Kind.REGISTER, "churn", "churn@v1.0.1", "2" * 40, version="v1.0.1", timestamp=2),
    ]
    policy = RegistryPolicy(stages=("staging", "prod"), require_order=True, require_passing=True)
    return policy, build_state(events).model("churn")


def test_policy_stage_order_and_passing() -> None:
    policy, model = policy_state()
    policy.check_stage("prod")
    with pytest.raises(UsageError) as info:
        policy.check_stage("prd")
    assert "did you mean 'prod'" in (info.value.hint or "")
    v100 = model.versions["v1.0.0"]  # type: ignore[attr-defined]
    v101 = model.versions["v1.0.1"]  # type: ignore[attr-defined]
    policy.check_order(model, v100, "staging")  # type: ignore[arg-type]
    with pytest.raises(CheckFailed, match="before 'staging'"):
        policy.check_order(model, v100, "prod")  # type: ignore[arg-type]
    with pytest.raises(CheckFailed, match="failing verdicts"):
        policy.check_passing(model, v100)  # type: ignore[arg-type]
    with pytest.raises(CheckFailed, match="records no verdicts"):
        policy.check_passing(model, v101)  # type: ignore[arg-type]
    RegistryPolicy().check_stage("anything")
    RegistryPolicy().check_passing(model, v101)  # type: ignore[arg-type]


def test_policy_parse_defaults() -> None:
    policy = RegistryPolicy.parse({"stages": ["a"], "sign": True})
    assert policy.to_dict() == {
        "stages": ["a"],
        "require_order": False,
        "require_passing": False,
        "sign": True,
        "verify": False,
        "remote": "origin",
        "deadline": 300.0,
    }
    assert RegistryPolicy.parse({"deadline": 12}).deadline == 12.0
    assert json.dumps(policy.to_dict())


def test_common_dir(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    (plain / ".git").mkdir(parents=True)
    assert gitio.common_dir(plain) == plain / ".git"
    main_git = tmp_path / "main" / ".git"
    (main_git / "worktrees" / "wt").mkdir(parents=True)
    (main_git / "worktrees" / "wt" / "commondir").write_text("../..\n")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {main_git / 'worktrees' / 'wt'}\n")
    assert gitio.common_dir(worktree) == main_git.resolve()
    assert gitio.common_dir(tmp_path / "nowhere") is None
