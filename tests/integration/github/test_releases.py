"""ensure_release against the fake GitHub: idempotent, assets on the uploads host."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import UsageError
from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.releases import ensure_release, find_release
from tests.github.fake import FakeGitHub

TAG = "churn@v1.2.0"


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    card = tmp_path / "model_card.md"
    card.write_text("# churn\n")
    verdict = tmp_path / "validation.json"
    verdict.write_text('{"ok": true}\n')
    return [card, verdict]


def test_creates_the_release_and_uploads_to_the_uploads_host(
    github: FakeGitHub, client: GitHubClient, files: list[Path]
) -> None:
    release = ensure_release(client, TAG, name="churn v1.2.0", body="notes", assets=files)
    assert release["tag_name"] == TAG
    assert sorted(a["name"] for a in release["assets"]) == ["model_card.md", "validation.json"]
    uploads = github.calls("POST", r"/assets$")
    assert {u.host for u in uploads} == {"uploads"}
    assert {dict(u.query)["name"] for u in uploads} == {"model_card.md", "validation.json"}
    assert {u.headers["Content-Type"] for u in uploads} == {"application/octet-stream"}
    blobs = sorted(github.blobs.values())
    assert blobs == [b"# churn\n", b'{"ok": true}\n']


def test_running_twice_changes_nothing(
    github: FakeGitHub, client: GitHubClient, files: list[Path]
) -> None:
    ensure_release(client, TAG, name="churn v1.2.0", body="notes", assets=files)
    before = len(github.seen)
    again = ensure_release(client, TAG, name="churn v1.2.0", body="notes", assets=files)
    writes = [s for s in github.seen[before:] if s.method != "GET"]
    assert writes == []
    assert len(github.releases) == 1
    assert len(again["assets"]) == 2


def test_changed_text_and_assets_are_replaced_by_name(
    github: FakeGitHub, client: GitHubClient, files: list[Path]
) -> None:
    ensure_release(client, TAG, name="churn v1.2.0", body="notes", assets=files)
    files[0].write_text("# churn, revised\n")
    release = ensure_release(client, TAG, name="churn v1.2.0 (fixed)", body="more", assets=files)
    assert (release["name"], release["body"]) == ("churn v1.2.0 (fixed)", "more")
    assert len(github.calls("DELETE", r"/releases/assets/")) == 1
    assert sorted(github.blobs[a["id"]] for a in release["assets"]) == [
        b"# churn, revised\n",
        b'{"ok": true}\n',
    ]


def test_a_draft_release_is_found_through_the_list(
    github: FakeGitHub, client: GitHubClient
) -> None:
    ensure_release(client, TAG, name="draft", body="", draft=True)
    assert find_release(client, TAG) is not None
    ensure_release(client, TAG, name="draft", body="")
    assert len(github.releases) == 1


def test_a_concurrent_creator_is_tolerated(
    github: FakeGitHub, client: GitHubClient, files: list[Path]
) -> None:
    # Another job creates the release between our look-up and our create.
    github.fail("POST", r"/releases$", 422, after=True, body={
        "message": "Validation Failed",
        "errors": [{"resource": "Release", "code": "already_exists", "field": "tag_name"}],
    })  # fmt: skip
    release = ensure_release(client, TAG, name="n", body="b", assets=files)
    assert len(github.releases) == 1
    assert len(release["assets"]) == 2


def test_a_failed_upload_is_cleaned_up_and_retried(
    github: FakeGitHub, client: GitHubClient, files: list[Path]
) -> None:
    github.fail("POST", r"/assets$", 502, after=True)  # GitHub may keep a broken asset
    release = ensure_release(client, TAG, name="n", body="b", assets=files)
    assert sorted(a["name"] for a in release["assets"]) == ["model_card.md", "validation.json"]
    assert len(github.calls("DELETE", r"/releases/assets/")) == 1


def test_permission_denied_names_the_operation(
    github: FakeGitHub, client: GitHubClient, files: list[Path]
) -> None:
    github.fail(
        "POST", r"/releases$", 403, body={"message": "Resource not accessible by integration"}
    )
    with pytest.raises(GitHubError, match=f"create release {TAG} failed with 403") as info:
        ensure_release(client, TAG, name="n", body="b", assets=files)
    assert "contents: write" in (info.value.hint or "")


def test_missing_or_clashing_assets_fail_before_any_call(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path, files: list[Path]
) -> None:
    with pytest.raises(UsageError, match="release asset not found"):
        ensure_release(client, TAG, name="n", body="b", assets=[tmp_path / "nope.json"])
    other = tmp_path / "sub"
    other.mkdir()
    (other / "validation.json").write_text("{}")
    with pytest.raises(UsageError, match=r"two release assets would be called 'validation\.json'"):
        ensure_release(client, TAG, name="n", body="b", assets=[*files, other / "validation.json"])
    assert github.seen == []
