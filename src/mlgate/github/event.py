"""The event that triggered a GitHub Actions run, read from ``$GITHUB_EVENT_PATH``.

Only what mlgate decides on: which commit a pull request is compared with, whether it comes from
a fork (no secrets, a read-only token: posting is skipped), and the commit a push started from.
Titles and branch names are data: they are never put into a shell command or a file name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.errors import ConfigError, Location

# A push that creates a branch reports this as the commit it started from.
NULL_SHA = "0" * 40


@dataclass(frozen=True)
class PullRequest:
    """The fields of a ``pull_request`` payload mlgate uses."""

    number: int
    title: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    head_repo: str | None
    base_repo: str | None
    html_url: str | None = None

    @property
    def is_fork(self) -> bool:
        """A pull request from another repository: its token is read-only and has no secrets."""
        return self.head_repo is None or self.head_repo != self.base_repo


@dataclass(frozen=True)
class Event:
    """The triggering event: its name (``GITHUB_EVENT_NAME``) and payload."""

    name: str | None
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pull_request(self) -> PullRequest | None:
        pr = self.payload.get("pull_request")
        if not isinstance(pr, Mapping):
            return None
        head, base = pr.get("head") or {}, pr.get("base") or {}
        return PullRequest(
            number=int(pr.get("number") or self.payload.get("number") or 0),
            title=str(pr.get("title") or ""),
            head_ref=str(head.get("ref") or ""),
            head_sha=str(head.get("sha") or ""),
            base_ref=str(base.get("ref") or ""),
            base_sha=str(base.get("sha") or ""),
            head_repo=_full_name(head.get("repo")),
            base_repo=_full_name(base.get("repo")),
            html_url=pr.get("html_url"),
        )

    @property
    def before(self) -> str | None:
        """The commit a ``push`` started from (NULL_SHA for a new branch), else None."""
        value = self.payload.get("before")
        return str(value) if self.name == "push" and value else None


def _full_name(repo: object) -> str | None:
    if isinstance(repo, Mapping) and repo.get("full_name"):
        return str(repo["full_name"])
    return None


def load_event(env: Mapping[str, str] | None = None) -> Event:
    """The current event; an empty one outside Actions. A broken payload is a ConfigError."""
    env = os.environ if env is None else env
    name = env.get("GITHUB_EVENT_NAME") or None
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return Event(name)
    try:
        payload = json.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        return Event(name)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"unreadable event payload: {exc}", location=Location(path)) from None
    if not isinstance(payload, dict):
        raise ConfigError("the event payload is not a JSON object", location=Location(path))
    return Event(name, payload)
