"""The download rules that need no server: where the token goes, which redirects are followed,
and a streamed file that is either complete or absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import ExternalError
from mlgate.fsio import atomic_stream
from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.download import _follow, _headers, _host, _origin

TOKEN = "ghs_unit_token"


def test_the_token_goes_to_the_api_origin_only() -> None:
    client = GitHubClient(TOKEN, api_url="https://api.github.com", repository="a/b")
    assert _headers(client, own=True)["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in _headers(client, own=False)
    assert _headers(client, own=False)["Accept"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("https://api.github.com/x", "https://API.github.com:443/y", True),
        ("https://api.github.com/x", "https://objects.githubusercontent.com/y", False),
        ("https://ghe.example/api/v3/x", "https://ghe.example/storage/y", True),
        ("http://127.0.0.1:8000/x", "http://127.0.0.1:8001/y", False),
        ("https://api.github.com/x", "http://api.github.com/x", False),
    ],
)
def test_origins_compare_scheme_host_and_port(one: str, other: str, same: bool) -> None:
    assert (_origin(one) == _origin(other)) is same


def test_redirects_resolve_relative_locations() -> None:
    assert _follow("https://ghe.example/api/v3/a", "/storage/b?sig=1", "op", "GET") == (
        "https://ghe.example/storage/b?sig=1"
    )


@pytest.mark.parametrize(
    ("current", "location", "message"),
    [
        ("https://api.github.com/a", "http://storage.example/b", "from https to http"),
        ("https://api.github.com/a", "file:///etc/passwd", "from https to file"),
        ("https://api.github.com/a", None, "without a Location"),
    ],
)
def test_unsafe_redirects_are_refused(current: str, location: str | None, message: str) -> None:
    with pytest.raises(GitHubError, match=message):
        _follow(current, location, "download", "GET /a")


def test_messages_show_the_host_never_the_signed_query() -> None:
    shown = _host("https://user:pw@storage.example:8443/path/file?X-Amz-Signature=secret")
    assert shown == "storage.example:8443"


def test_a_streamed_file_is_moved_into_place_when_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "model.bin"
    with atomic_stream(target) as sink:
        sink.write(b"part one ")
        assert not target.exists()
        sink.write(b"part two")
    assert target.read_bytes() == b"part one part two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.bin"]


def test_a_failed_stream_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")

    class Refused(Exception):
        pass

    def stream_then_refuse() -> None:
        with atomic_stream(target) as sink:
            sink.write(b"new but wrong")
            raise Refused

    with pytest.raises(Refused):
        stream_then_refuse()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_an_unwritable_folder_is_an_external_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ExternalError, match="cannot write"), atomic_stream(blocker / "x"):
        pass
