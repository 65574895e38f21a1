"""The one GitHub REST client: retries, rate limits, Link pagination, and a token never shown.

Retries follow GitHub's guidance: a 429 or a 403 that says "rate limit" waits for ``Retry-After``
(or until ``x-ratelimit-reset`` when the primary limit is spent, or at least a minute for a
secondary limit) and is retried whatever the method, because GitHub did not process it; a 5xx or
a dropped connection is retried with exponential backoff only when repeating the request is safe
(every method except POST, unless the caller says otherwise). The clock, the sleep and the jitter
are injectable so tests never wait.
"""

from __future__ import annotations

import logging
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mlgate import __version__
from mlgate.errors import ExternalError, UsageError

if TYPE_CHECKING:
    import requests

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
_TRANSIENT = frozenset({500, 502, 503, 504})
_SECONDARY_MIN_WAIT = 60.0  # GitHub: wait at least one minute after a secondary rate limit
_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="([^"]+)"')
_MASK = "***"

log = logging.getLogger("mlgate.github")

_HINTS = {
    401: "the token is missing, expired or invalid: check GITHUB_TOKEN",
    403: (
        "the token lacks a permission this needs (the workflow's 'permissions:' block, e.g. "
        "pull-requests: write or contents: write); a fork's pull request gets a read-only token"
    ),
    404: (
        "the repository, pull request or release does not exist, or the token cannot see it "
        "(GitHub answers 404 for private resources): check GITHUB_REPOSITORY and the token"
    ),
    422: "GitHub rejected the request's content; the details below say which field",
}


@dataclass(frozen=True)
class ApiResponse:
    """A finished API call: status, lower-cased headers and the decoded body."""

    status: int
    headers: Mapping[str, str]
    data: Any
    url: str

    def links(self) -> dict[str, str]:
        """The ``Link`` header as ``{rel: url}``."""
        return {rel: url for url, rel in _LINK.findall(self.headers.get("link", ""))}


class GitHubError(ExternalError):
    """A GitHub API call failed (exit 3); the message names the operation and never the token."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status: int | None = None,
        hint: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        super().__init__(message, hint=hint, details=details)
        self.operation = operation
        self.status = status

    @property
    def transient(self) -> bool:
        """A server error or a lost connection: the request may or may not have been applied."""
        return self.status is None or self.status in _TRANSIENT


@dataclass
class RetryPolicy:
    """How often and how long to retry; ``sleep``, ``clock`` and ``jitter`` are injectable."""

    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_wait: float = 900.0  # give up rather than wait longer than this for a rate limit
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    jitter: Callable[[], float] = random.random
    waits: list[float] = field(default_factory=list)  # every wait taken, for messages and tests

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter in [50%, 100%] of the step (attempt counts from 1)."""
        step = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        return float(step * (0.5 + 0.5 * self.jitter()))

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)


# How core code reaches GitHub when, and only when, it must (a model file kept as a release
# asset, a pull-request comment): the CLI passes ``GitHubClient.from_env``, so the token is read
# (and masked) only then, and core never reads the environment itself.
Connect = Callable[[], "GitHubClient"]


class GitHubClient:
    """A requests-based client for one GitHub (or GitHub Enterprise) API and one repository."""

    def __init__(
        self,
        token: str | None,
        *,
        api_url: str = DEFAULT_API_URL,
        repository: str | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
    ) -> None:
        self._token = token or None
        self.api_url = api_url.rstrip("/")
        self.repository = repository or None
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._session = session

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, retry: RetryPolicy | None = None
    ) -> GitHubClient:
        """A client from ``GITHUB_TOKEN``, ``GITHUB_API_URL`` and ``GITHUB_REPOSITORY``."""
        from mlgate.github.actions import mask

        env = os.environ if environ is None else environ
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or None
        if token:
            # On stderr: the runner reads workflow commands there too, and stdout stays clean
            # for --json output.
            mask(token, stream=sys.stderr)
        return cls(
            token,
            api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
            repository=env.get("GITHUB_REPOSITORY") or None,
            retry=retry,
        )

    def __repr__(self) -> str:
        token = _MASK if self._token else None
        return (
            f"GitHubClient(api_url={self.api_url!r}, repository={self.repository!r}, "
            f"token={token!r})"
        )

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def scrub(self, text: str) -> str:
        """``text`` with the token replaced by ``***`` (for any message that might echo it)."""
        return text.replace(self._token, _MASK) if self._token else text

    def repo_path(self, *parts: str | int) -> str:
        """``/repos/OWNER/NAME/PART/...`` with every part URL-quoted."""
        if not self.repository or not re.fullmatch(r"[\w.-]+/[\w.-]+", self.repository):
            raise UsageError(
                f"no GitHub repository to talk to (GITHUB_REPOSITORY={self.repository!r})",
                hint="set GITHUB_REPOSITORY=OWNER/NAME (Actions sets it) or pass --repo",
            )
        owner, name = self.repository.split("/")
        tail = "".join("/" + quote(str(p), safe="") for p in parts)
        return f"/repos/{quote(owner)}/{quote(name)}{tail}"

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        data: bytes | Path | None = None,
        content_type: str | None = None,
        missing_ok: bool = False,
        retry_unsafe: bool = False,
    ) -> ApiResponse:
        """Send one API call with retries; non-2xx answers raise GitHubError naming ``operation``.

        ``url`` is a path below the API root or an absolute URL (pagination, uploads). With
        ``missing_ok`` a 404 is returned instead of raised. ``data`` as a Path is streamed from
        the file, re-opened on every attempt.
        """
        method = method.upper()
        full = url if url.startswith(("http://", "https://")) else self.api_url + url
        shown = f"{method} {_path_of(full)}"
        safe = method in _IDEMPOTENT or retry_unsafe
        policy = self.retry
        import requests

        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(method, full, params, json, data, content_type)
            except requests.RequestException as exc:
                if safe and attempt < policy.max_attempts:
                    log.debug("%s: %s; retrying", shown, type(exc).__name__)
                    policy.wait(policy.backoff(attempt))
                    continue
                raise GitHubError(
                    f"GitHub API: {operation} failed: cannot reach {self.scrub(_origin(full))}: "
                    f"{self.scrub(str(exc))}",
                    operation=operation,
                    hint="check the network and GITHUB_API_URL; the request was "
                    f"tried {attempt} time{'s' * (attempt > 1)}",
                    details=[f"request: {shown}"],
                ) from None
            if 200 <= response.status < 300 or (missing_ok and response.status == 404):
                return response
            delay = self._retry_delay(response, attempt, safe=safe)
            if delay is None:
                raise self._error(response, operation, shown, attempt)
            if delay > policy.max_wait:
                raise self._error(response, operation, shown, attempt, wait=delay)
            log.debug("%s: %s; retrying in %.1fs", shown, response.status, delay)
            policy.wait(delay)

    def get(
        self, url: str, *, operation: str, params: Mapping[str, str | int] | None = None
    ) -> Any:
        return self.request("GET", url, operation=operation, params=params).data

    def paginate(
        self,
        url: str,
        *,
        operation: str,
        params: Mapping[str, str | int] | None = None,
        per_page: int = 100,
        items_key: str | None = None,
    ) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"`` to the last page."""
        query: dict[str, str | int] = {"per_page": per_page, **(params or {})}
        next_url: str | None = url
        seen: set[str] = set()
        while next_url is not None:
            page = self.request("GET", next_url, operation=operation, params=query)
            items = page.data[items_key] if items_key else page.data
            if not isinstance(items, list):
                raise GitHubError(
                    f"GitHub API: {operation}: expected a list, got {type(items).__name__}",
                    operation=operation,
                )
            yield from items
            next_url = page.links().get("next")
            query = {}  # the next link carries the whole query
            if next_url in seen:  # a server that links a page to itself would loop forever
                break
            if next_url is not None:
                seen.add(next_url)

    # -- internals --------------------------------------------------------------------------

    def _http(self) -> requests.Session:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int] | None,
        json: Any,
        data: bytes | Path | None,
        content_type: str | None,
    ) -> ApiResponse:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"mlgate/{__version__}",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if content_type:
            headers["Content-Type"] = content_type
        session = self._http()
        if isinstance(data, Path):
            headers["Content-Length"] = str(data.stat().st_size)
            with data.open("rb") as body:
                raw = session.request(
                    method, url, params=params, data=body, headers=headers, timeout=self.timeout
                )
        else:
            raw = session.request(
                method, url, params=params, json=json, data=data, headers=headers,
                timeout=self.timeout,
            )  # fmt: skip
        lowered = {k.lower(): v for k, v in raw.headers.items()}
        body_data: Any = None
        if raw.content:
            if "json" in lowered.get("content-type", ""):
                try:
                    body_data = raw.json()
                except ValueError:
                    body_data = raw.text
            else:
                body_data = raw.text
        return ApiResponse(raw.status_code, lowered, body_data, raw.url)

    def _retry_delay(self, response: ApiResponse, attempt: int, *, safe: bool) -> float | None:
        """Seconds to wait before retrying ``response``, or None when it must not be retried."""
        policy = self.retry
        if attempt >= policy.max_attempts:
            return None
        status, headers = response.status, response.headers
        message = _github_message(response.data).lower()
        limited = status == 429 or (
            status == 403
            and (
                "retry-after" in headers
                or headers.get("x-ratelimit-remaining") == "0"
                or "rate limit" in message
            )
        )
        if limited:
            if "retry-after" in headers:
                return max(0.0, _number(headers["retry-after"]))
            if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
                return max(1.0, _number(headers["x-ratelimit-reset"]) - policy.clock() + 1.0)
            if "secondary rate limit" in message:
                return max(_SECONDARY_MIN_WAIT, policy.backoff(attempt))
            return policy.backoff(attempt)
        if status in _TRANSIENT and safe:
            return policy.backoff(attempt)
        return None

    def _error(
        self,
        response: ApiResponse,
        operation: str,
        shown: str,
        attempts: int,
        wait: float | None = None,
    ) -> GitHubError:
        status = response.status
        gh_message = self.scrub(_github_message(response.data)) or _REASONS.get(status, "")
        details = [f"request: {shown}"]
        if isinstance(response.data, dict):
            errors = response.data.get("errors") or []
            details += [f"error: {self.scrub(_describe_error(item))}" for item in errors]
            if response.data.get("documentation_url"):
                details.append(f"see {response.data['documentation_url']}")
        hint: str | None
        if wait is not None:
            hint = (
                f"the API rate limit resets in {wait:.0f} s, longer than mlgate waits "
                f"({self.retry.max_wait:.0f} s); run again later or use a token with a higher limit"
            )
        elif status in _TRANSIENT:
            tried = f"tried {attempts} time{'s' * (attempts > 1)}"
            hint = f"GitHub had a server error ({tried}); run again in a few minutes"
        elif status in {403, 429} and "rate limit" in gh_message.lower():
            hint = f"still rate-limited after {attempts} attempts; run again later"
        else:
            hint = _HINTS.get(status)
        return GitHubError(
            f"GitHub API: {operation} failed with {status}"
            + (f": {gh_message}" if gh_message else ""),
            operation=operation,
            status=status,
            hint=hint,
            details=details,
        )


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _github_message(data: Any) -> str:
    if isinstance(data, dict):
        return str(data.get("message") or "")
    return data.strip()[:200] if isinstance(data, str) else ""


def _describe_error(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    if item.get("message"):
        return str(item["message"])
    parts = [f"{k}={item[k]}" for k in ("resource", "field", "code") if item.get(k)]
    return ", ".join(parts) or str(item)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _origin(url: str) -> str:
    match = re.match(r"^(https?://[^/]+)", url)
    return match.group(1) if match else url


def _path_of(url: str) -> str:
    """The path (and no query) of ``url``, for messages."""
    return re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0] or "/"
