"""``mlgate github issue upsert|close`` on the fake GitHub: one open issue per title and label."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.github.fake import FakeGitHub

TITLE = "mlgate: data drift in churn"


@pytest.fixture
def api(github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    for key, value in github.env.items():
        monkeypatch.setenv(key, value)
    return github


def _run(*args: str, cwd: Path) -> dict:
    out = invoke("github", "issue", *args, "--json", cwd=cwd)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_opens_then_comments_then_closes_one_issue(api: FakeGitHub, tmp_path: Path) -> None:
    body = tmp_path / "body.md"
    body.write_text("drifted: 3 of 5 columns\n")
    # An issue with the same title but another label, and a closed one, are not ours.
    api.add_issue(TITLE, "someone else's", ["question"])
    old = api.add_issue(TITLE, "last month", ["mlgate-drift"])
    old["state"] = "closed"
    first = _run("upsert", "--title", TITLE, "--label", "mlgate-drift", "--body-file", str(body),
                 cwd=tmp_path)  # fmt: skip
    assert first["action"] == "created"
    second = _run("upsert", "--title", TITLE, "--label", "mlgate-drift", "--body", "still",
                  cwd=tmp_path)  # fmt: skip
    assert second == {**second, "action": "commented", "number": first["number"]}
    ours = [i for i in api.issues if i["state"] == "open" and i["labels"][0]["name"] != "question"]
    assert [i["number"] for i in ours] == [first["number"]]
    assert ours[0]["body"] == "drifted: 3 of 5 columns\n"
    assert [c["body"] for c in api.comments[first["number"]]] == ["still"]
    closed = _run("close", "--title", TITLE, "--label", "mlgate-drift", "--body", "back",
                  cwd=tmp_path)  # fmt: skip
    assert closed["action"] == "closed"
    assert ours[0]["state"] == "closed"
    assert ours[0]["state_reason"] == "completed"
    again = _run("close", "--title", TITLE, "--label", "mlgate-drift", cwd=tmp_path)
    assert again["action"] == "none"


def test_a_label_list_is_a_usage_error(api: FakeGitHub, tmp_path: Path) -> None:
    out = invoke("github", "issue", "upsert", "--title", "x", "--label", "a,b", cwd=tmp_path)
    assert out.exit_code == 2
    assert "one label" in out.output
    assert api.seen == []
