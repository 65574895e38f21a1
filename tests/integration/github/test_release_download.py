"""download_asset: by tag and name, through the 302 to storage, verified, moved into place."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlgate.errors import EXIT_EXTERNAL, EXIT_USAGE
from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.releases import AssetDigestMismatch, AssetNotFound, download_asset
from tests.github.fake import FakeGitHub
from tests.github.fixtures import Clock

TAG = "churn@v1.0.0"
MODEL = b"model bytes \x00\x01\x02" * 5000
ASSET_GET = r"/releases/assets/\d+$"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_follows_the_redirect_to_storage_without_the_token(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    github.add_release(TAG, {"model.skops": MODEL, "payload.json": b"{}"})
    target = tmp_path / "cache" / "model.skops"
    got = download_asset(client, TAG, "model.skops", target, sha256=sha(MODEL))
    assert target.read_bytes() == MODEL
    assert (got.path, got.sha256, got.size, got.tag, got.name) == (
        target, sha(MODEL), len(MODEL), TAG, "model.skops"
    )  # fmt: skip
    assert leftovers(target.parent) == []
    (api_call,) = github.calls("GET", ASSET_GET)
    assert api_call.status == 302
    assert api_call.headers["Authorization"] == f"Bearer {github.token}"
    assert api_call.headers["Accept"] == "application/octet-stream"
    (stored,) = [s for s in github.seen if s.host == "storage"]
    assert stored.status == 200
    assert "Authorization" not in stored.headers
    assert github.storage is not None
    if github.storage.host != github.api.host:  # a second loopback address was available
        assert stored.headers["Host"].split(":")[0] == "127.0.0.2"


def test_the_api_may_serve_the_bytes_itself(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    github.redirect_downloads = False
    github.add_release(TAG, {"model.skops": MODEL})
    target = tmp_path / "model.skops"
    download_asset(client, TAG, "model.skops", target)
    assert target.read_bytes() == MODEL
    assert not [s for s in github.seen if s.host == "storage"]


def test_names_are_matched_the_way_github_stores_them(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    github.add_release(TAG, {"my.model.v2.skops": MODEL})  # GitHub turns the space into "."
    download_asset(client, TAG, "my model v2.skops", tmp_path / "m.skops")
    assert (tmp_path / "m.skops").read_bytes() == MODEL


def test_a_draft_release_is_found_through_the_list(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    github.add_release(TAG, {"model.skops": MODEL})["draft"] = True
    download_asset(client, TAG, "model.skops", tmp_path / "model.skops")
    assert github.calls("GET", r"/releases/tags/")[0].status == 404
    assert (tmp_path / "model.skops").read_bytes() == MODEL


def test_bytes_that_differ_from_the_expected_digest_are_refused(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    github.add_release(TAG, {"model.skops": b"another model"})
    target = tmp_path / "model.skops"
    target.write_bytes(b"old")
    with pytest.raises(AssetDigestMismatch) as info:
        download_asset(client, TAG, "model.skops", target, sha256=sha(MODEL))
    assert info.value.exit_code == EXIT_EXTERNAL
    assert f"not the {sha(MODEL)[:12]}... expected" in info.value.message
    # GitHub's own digest already disagreed, so nothing was downloaded; the old file is intact.
    assert not github.calls("GET", ASSET_GET)
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_bytes_are_checked_after_the_download_too(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    release = github.add_release(TAG, {"model.skops": b"another model"})
    (asset,) = github.assets[release["id"]]
    asset["digest"] = None  # older assets carry no digest: only the bytes can tell
    target = tmp_path / "model.skops"
    with pytest.raises(AssetDigestMismatch):
        download_asset(client, TAG, "model.skops", target, sha256=sha(MODEL))
    assert len(github.calls("GET", ASSET_GET)) == 1
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_a_download_that_does_not_match_githubs_digest_is_refused(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    release = github.add_release(TAG, {"model.skops": MODEL})
    (asset,) = github.assets[release["id"]]
    asset["digest"] = "sha256:" + "0" * 64
    with pytest.raises(GitHubError) as info:
        download_asset(client, TAG, "model.skops", tmp_path / "model.skops")
    assert "not the 000000000000... GitHub reports for the asset" in info.value.message
    assert info.value.hint == "the download was corrupted on the way; run again"
    assert not (tmp_path / "model.skops").exists()


def test_a_missing_release_or_asset_is_a_clear_usage_error(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    with pytest.raises(AssetNotFound, match=f"acme/models has no GitHub Release for tag {TAG}"):
        download_asset(client, TAG, "model.skops", tmp_path / "model.skops")
    github.add_release(TAG, {"payload.json": b"{}", "metrics.json": b"{}"})
    with pytest.raises(AssetNotFound) as info:
        download_asset(client, TAG, "model.skops", tmp_path / "model.skops")
    assert info.value.exit_code == EXIT_USAGE
    assert "has no asset model.skops; its assets: metrics.json, payload.json" in info.value.message
    assert info.value.available == ("payload.json", "metrics.json")


def test_an_unfinished_upload_is_not_downloaded(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    release = github.add_release(TAG, {"model.skops": MODEL})
    github.assets[release["id"]][0]["state"] = "open"
    with pytest.raises(AssetNotFound, match="upload did not finish: state open"):
        download_asset(client, TAG, "model.skops", tmp_path / "model.skops")


def test_a_404_on_the_download_is_an_external_error(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    github.add_release(TAG, {"model.skops": MODEL})
    github.fail("GET", ASSET_GET, 404, body={"message": "Not Found"})
    with pytest.raises(GitHubError) as info:
        download_asset(client, TAG, "model.skops", tmp_path / "model.skops")
    assert info.value.exit_code == EXIT_EXTERNAL
    assert info.value.status == 404
    assert "download release asset model.skops of churn@v1.0.0 failed with 404" in str(
        info.value.message
    )
    assert not (tmp_path / "model.skops").exists()


def test_a_storage_failure_restarts_from_the_api_for_a_fresh_url(
    github: FakeGitHub, client: GitHubClient, clock: Clock, tmp_path: Path
) -> None:
    github.add_release(TAG, {"model.skops": MODEL})
    github.fail("GET", r"^/release-assets/", 503, host="storage")
    download_asset(client, TAG, "model.skops", tmp_path / "model.skops")
    assert (tmp_path / "model.skops").read_bytes() == MODEL
    assert [s.status for s in github.calls("GET", ASSET_GET)] == [302, 302]
    assert clock.sleeps == [1.0]


def test_an_api_server_error_is_retried_honouring_the_policy(
    github: FakeGitHub, client: GitHubClient, clock: Clock, tmp_path: Path
) -> None:
    github.add_release(TAG, {"model.skops": MODEL})
    github.fail("GET", ASSET_GET, 429, headers={"Retry-After": "7"})
    download_asset(client, TAG, "model.skops", tmp_path / "model.skops")
    assert clock.sleeps == [7.0]
    assert (tmp_path / "model.skops").read_bytes() == MODEL


def test_a_storage_host_that_keeps_refusing_gives_up_without_showing_the_signed_url(
    github: FakeGitHub, client: GitHubClient, clock: Clock, tmp_path: Path
) -> None:
    github.add_release(TAG, {"model.skops": MODEL})
    github.fail("GET", r"^/release-assets/", 403, times=99, host="storage")
    with pytest.raises(GitHubError) as info:
        download_asset(client, TAG, "model.skops", tmp_path / "model.skops")
    assert info.value.status == 403
    assert len(github.calls("GET", ASSET_GET)) == client.retry.max_attempts
    shown = " ".join([info.value.message, info.value.hint or "", *info.value.details])
    assert "storage host" in shown
    assert "sig=" not in shown
    assert "release-assets" not in shown
    assert github.token not in shown
