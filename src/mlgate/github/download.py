"""Streaming downloads through the GitHub client: redirects followed by hand, the token kept home.

GitHub answers a binary download (``Accept: application/octet-stream``) with the bytes or with a
302 to a pre-signed URL on a storage host. The redirect is followed here rather than by
``requests`` so the rule is explicit: the Authorization header goes only to the API's own origin
(scheme, host and port), never to the storage host, and an https API is never followed to plain
http. The bytes stream into a temporary file beside the target, hashed on the way; a caller's
``verify`` may refuse them before the file is moved into place, so the target is either the whole
verified file or untouched. Lost connections and storage errors restart from the API (a fresh
pre-signed URL), with the client's retry policy.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from mlgate import __version__
from mlgate.fsio import atomic_stream
from mlgate.github.client import API_VERSION, ApiResponse, GitHubClient, GitHubError, _path_of

if TYPE_CHECKING:
    import requests

log = logging.getLogger("mlgate.github")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
_CHUNK = 1 << 20
Verify = Callable[[str, int], None]


@dataclass(frozen=True)
class Download:
    """A finished download: where it is, its sha256 (hex), its size, and the host that served it."""

    path: Path
    sha256: str
    size: int
    served_by: str


class _Again(Exception):
    """One attempt failed in a way a fresh attempt may fix; ``delay`` None means backoff."""

    def __init__(self, error: GitHubError, delay: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay = delay


def download(
    client: GitHubClient,
    url: str,
    target: Path,
    *,
    operation: str,
    verify: Verify | None = None,
) -> Download:
    """Stream ``url`` (an API path or URL) into ``target``; ``verify(sha256, size)`` may refuse."""
    policy = client.retry
    attempt = 0
    while True:
        attempt += 1
        try:
            with atomic_stream(target) as sink:
                digest, size, host = _attempt(client, url, sink, operation, attempt)
                if verify is not None:
                    verify(digest, size)
        except _Again as again:
            delay = policy.backoff(attempt) if again.delay is None else again.delay
            if attempt >= policy.max_attempts or delay > policy.max_wait:
                raise again.error from None
            log.debug("%s: %s; retrying in %.1fs", operation, again.error.message, delay)
            policy.wait(delay)
            continue
        return Download(target, digest, size, host)


def _attempt(
    client: GitHubClient, url: str, sink: IO[bytes], operation: str, attempt: int
) -> tuple[str, int, str]:
    import requests

    current = url if url.startswith(("http://", "https://")) else client.api_url + url
    home = _origin(client.api_url)
    for _ in range(_MAX_REDIRECTS + 1):
        own = _origin(current) == home
        shown = f"GET {_path_of(current)}" if own else f"GET {_host(current)} (storage)"
        try:
            with client._http().get(
                current,
                headers=_headers(client, own=own),
                stream=True,
                allow_redirects=False,
                timeout=client.timeout,
            ) as raw:
                if raw.status_code in _REDIRECTS:
                    current = _follow(current, raw.headers.get("Location"), operation, shown)
                    continue
                if 200 <= raw.status_code < 300:
                    digest, size = _drain(raw, sink, operation, shown)
                    return digest, size, _host(current)
                answer = _answer(raw)
        except requests.RequestException as exc:
            # A storage URL's query is a credential, and requests' messages quote the URL.
            why = client.scrub(str(exc)) if own else type(exc).__name__
            raise _Again(
                GitHubError(
                    f"GitHub API: {operation} failed: the download from {_host(current)} broke "
                    f"off: {why}",
                    operation=operation,
                    hint=f"check the network; the download was tried {attempt} time"
                    + "s" * (attempt > 1),
                    details=[f"request: {shown}"],
                )
            ) from None
        if own:
            delay = client._retry_delay(answer, attempt, safe=True)
            error = client._error(answer, operation, shown, attempt)
            if delay is None:
                raise error
            raise _Again(error, delay)
        # A storage host's refusal is usually an expired or mangled pre-signed URL: the next
        # attempt asks the API for a fresh one.
        raise _Again(
            GitHubError(
                f"GitHub API: {operation} failed: the storage host {_host(current)} answered "
                f"{answer.status}",
                operation=operation,
                status=answer.status,
                hint=f"GitHub's file storage refused the download {attempt} time"
                + "s" * (attempt > 1)
                + "; run again in a few minutes",
                details=[f"request: {shown}"],
            ),
            _retry_after(answer),
        )
    raise GitHubError(
        f"GitHub API: {operation} failed: more than {_MAX_REDIRECTS} redirects",
        operation=operation,
        details=[f"last request: GET {_host(current)}"],
    )


def _headers(client: GitHubClient, *, own: bool) -> dict[str, str]:
    headers = {"Accept": "application/octet-stream", "User-Agent": f"mlgate/{__version__}"}
    if own:
        headers["X-GitHub-Api-Version"] = API_VERSION
        token = client._token
        if token:
            headers["Authorization"] = f"Bearer {token}"
    return headers


def _follow(current: str, location: str | None, operation: str, shown: str) -> str:
    """The redirect target, refused when it is missing, not HTTP, or a downgrade to http."""
    if not location:
        raise GitHubError(
            f"GitHub API: {operation} failed: a redirect without a Location header",
            operation=operation,
            details=[f"request: {shown}"],
        )
    target = urljoin(current, location)
    scheme = urlsplit(target).scheme
    if scheme not in {"http", "https"} or (
        urlsplit(current).scheme == "https" and scheme != "https"
    ):
        raise GitHubError(
            f"GitHub API: {operation} failed: refusing a redirect from "
            f"{urlsplit(current).scheme} to {scheme or 'a relative path'} ({_host(target)})",
            operation=operation,
            hint="a download is only followed to https (or to http from an http API)",
            details=[f"request: {shown}"],
        )
    return target


def _drain(raw: requests.Response, sink: IO[bytes], operation: str, shown: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in raw.iter_content(_CHUNK):
        sink.write(chunk)
        digest.update(chunk)
        size += len(chunk)
    declared = raw.headers.get("Content-Length")
    # With a Content-Encoding the declared length is of the encoded body; requests decodes it.
    encoded = bool(raw.headers.get("Content-Encoding"))
    if declared and declared.isdigit() and not encoded and int(declared) != size:
        raise _Again(
            GitHubError(
                f"GitHub API: {operation} failed: got {size} of {declared} bytes",
                operation=operation,
                details=[f"request: {shown}"],
            )
        )
    return digest.hexdigest(), size


def _answer(raw: requests.Response) -> ApiResponse:
    """A failed hop as an ApiResponse, so the client's retry and error rules apply to it."""
    headers = {k.lower(): v for k, v in raw.headers.items()}
    body: Any = raw.content[:65536].decode("utf-8", "replace") if raw.content else None
    if body and "json" in headers.get("content-type", ""):
        with contextlib.suppress(ValueError):
            body = raw.json()
    return ApiResponse(raw.status_code, headers, body, raw.url)


def _retry_after(answer: ApiResponse) -> float | None:
    value = answer.headers.get("retry-after", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _host(url: str) -> str:
    """The host (and port) of ``url``: never its path or query, which may carry a signature."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1] or url
