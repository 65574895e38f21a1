"""A fake GitHub on loopback: an API host, an uploads host and a storage host for downloads.

Every API request is validated by ``contract.Contract`` (a violation answers 400 and is recorded,
so the test fails at teardown), then served from in-memory state (comments, releases, assets) the
way GitHub serves it: Link pagination with a small page size, 404 for drafts on the by-tag
endpoint, 422 ``already_exists`` for a second release of a tag or a second asset of a name, and an
asset download (``Accept: application/octet-stream``) answered with a 302 to a pre-signed URL on
the storage host, which refuses a request that carries an Authorization header (as S3 does, and
recorded as a violation: the token must never leave the API host). Faults (5xx, rate limits, lost
answers) are injected per request, on the storage host too.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.github.contract import Contract, Match, load_contract

DATE = "2026-01-01T00:00:00Z"
OWNER, REPO = "acme", "models"


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Any
    after: bool  # apply the request, then answer with the fault (a lost answer)
    host: str = "api"  # "api" serves the uploads host too; "storage" is the download host


@dataclass(frozen=True)
class Seen:
    host: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any
    headers: dict[str, str]
    status: int


@dataclass
class FakeGitHub:
    api: HTTPServer
    uploads: HTTPServer
    storage: HTTPServer | None = None  # where asset downloads are redirected (another host)
    token: str = "ghs_fake_token_0123456789abcdef"
    redirect_downloads: bool = True  # False: the API streams the asset itself (GitHub may)
    prefix: str = ""  # "/api/v3" makes it look like GitHub Enterprise Server
    public: bool = False  # anonymous GETs are answered (a public repository)
    page_size: int = 100
    contract: Contract = field(default_factory=load_contract)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    assets: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    blobs: dict[int, bytes] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    # Issues and pull requests share numbers on GitHub; tests use small PR numbers.
    _issue_numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(101))

    def start(self) -> FakeGitHub:
        for server, host in ((self.api, "api"), (self.uploads, "uploads")):
            server.expect_request(re.compile(".*")).respond_with_handler(
                functools.partial(self.handle, host=host)
            )
        if self.storage is not None:
            self.storage.expect_request(re.compile(".*")).respond_with_handler(self.handle_storage)
        return self

    # -- what tests use ------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.api.url_for(self.prefix or "/").rstrip("/")

    @property
    def env(self) -> dict[str, str]:
        return {
            "GITHUB_TOKEN": self.token,
            "GITHUB_API_URL": self.api_url,
            "GITHUB_REPOSITORY": f"{OWNER}/{REPO}",
        }

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        after: bool = False,
        host: str = "api",
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` and ``path`` with ``status``."""
        default = {"message": f"fake failure {status}"}
        self.faults.append(
            Fault(
                method, re.compile(path), status, times, headers or {}, body or default, after,
                host,
            )
        )  # fmt: skip

    def calls(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if (method is None or s.method == method) and (path is None or re.search(path, s.path))
        ]

    def add_release(self, tag: str, assets: dict[str, bytes] | None = None) -> dict[str, Any]:
        """A published release of ``tag`` with ``assets`` (name -> bytes), as if uploaded."""
        release = self._new_release({"tag_name": tag, "name": tag, "body": ""})
        self.releases.append(release)
        for name, body in (assets or {}).items():
            asset = self._asset(name, body, "application/octet-stream")
            self.assets.setdefault(release["id"], []).append(asset)
            self.blobs[asset["id"]] = body
        return release

    def add_comment(self, issue: int, body: str, login: str = "someone") -> dict[str, Any]:
        comment = self._comment(issue, body, login)
        self.comments.setdefault(issue, []).append(comment)
        return comment

    # -- serving -----------------------------------------------------------------------------

    def handle(self, request: Request, host: str) -> Response:
        path = request.path
        if self.prefix and host == "api":
            if not path.startswith(self.prefix + "/"):
                return self._answer(request, host, 404, {"message": "Not Found"})
            path = path[len(self.prefix) :]
        body = request.get_data()
        match = self.contract.check_request(
            host=host,
            method=request.method,
            path=path,
            query=list(request.args.items(multi=True)),
            content_type=request.headers.get("Content-Type"),
            body=body,
        )
        if isinstance(match, list) or match.problems:
            problems = match if isinstance(match, list) else list(match.problems)
            self.violations += [f"{request.method} {path}: {p}" for p in problems]
            return self._answer(request, host, 400, {"message": "; ".join(problems)}, path)
        if "Authorization" not in request.headers:
            # Anonymous: a public repository can be read; a private one does not exist.
            if not (self.public and request.method == "GET"):
                return self._answer(request, host, 404, {"message": "Not Found"}, path)
        elif request.headers["Authorization"] != f"Bearer {self.token}":
            return self._answer(request, host, 401, {"message": "Bad credentials"}, path)
        fault = self._fault(request.method, path)
        if fault is not None and not fault.after:
            return self._answer(request, host, fault.status, fault.body, path, fault.headers)
        status, data, headers = self._serve(match, request, body)
        if status < 400 and not isinstance(data, bytes):
            self.violations += [
                f"fake answered badly: {p}"
                for p in self.contract.check_response(match.operation, status, data)
            ]
        if fault is not None:
            return self._answer(request, host, fault.status, fault.body, path, fault.headers)
        return self._answer(request, host, status, data, path, headers)

    def handle_storage(self, request: Request) -> Response:
        """The storage host behind asset downloads: pre-signed URLs only, never the token."""
        path = request.path
        if "Authorization" in request.headers:
            self.violations.append(f"an Authorization header was sent to the storage host: {path}")
            body = {"message": "Only one auth mechanism allowed"}
            return self._answer(request, "storage", 400, body, path)
        fault = self._fault(request.method, path, host="storage")
        if fault is not None:
            return self._answer(request, "storage", fault.status, fault.body, path, fault.headers)
        found = re.fullmatch(r"/release-assets/(\d+)/[^/]+", path)
        blob = self.blobs.get(int(found.group(1))) if found else None
        if request.method != "GET" or found is None or blob is None:
            return self._answer(request, "storage", 404, {"message": "NoSuchKey"}, path)
        if request.args.get("sig") != self._signature(int(found.group(1))):
            return self._answer(request, "storage", 403, {"message": "SignatureMismatch"}, path)
        return self._answer(request, "storage", 200, blob, path)

    def _signature(self, asset_id: int) -> str:
        return hmac.new(b"fake-storage", str(asset_id).encode(), "sha256").hexdigest()

    def _fault(self, method: str, path: str, host: str = "api") -> Fault | None:
        for fault in self.faults:
            if fault.host != host:
                continue
            if fault.times > 0 and fault.method == method and fault.path.search(path):
                fault.times -= 1
                return fault
        return None

    def _answer(
        self,
        request: Request,
        host: str,
        status: int,
        data: Any,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body = request.get_data()
        try:
            shown: Any = (
                json.loads(body) if body and "json" in (request.content_type or "") else body
            )
        except ValueError:
            shown = body
        self.seen.append(
            Seen(
                host,
                request.method,
                path or request.path,
                tuple(request.args.items(multi=True)),
                shown,
                dict(request.headers),
                status,
            )
        )
        if status == 204 or data is None:
            return Response(status=status, headers=headers or {})
        if isinstance(data, bytes):
            return Response(
                data, status=status, headers=headers or {}, content_type="application/octet-stream"
            )
        return Response(
            json.dumps(data), status=status, headers=headers or {}, content_type="application/json"
        )

    def _serve(
        self, match: Match, request: Request, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        op, p = match.operation.operation_id, match.path_params
        data: Any = json.loads(body) if body and "json" in (request.content_type or "") else None
        if op == "issues/list-comments":
            return self._page(request, self.comments.get(p["issue_number"], []))
        if op == "issues/create-comment":
            issue = self._issue(p["issue_number"])
            if issue is not None:
                issue["comments"] += 1
            return 201, self.add_comment(p["issue_number"], data["body"], "github-actions[bot]"), {}
        if op in {"issues/list-for-repo", "issues/create", "issues/update"}:
            return self._serve_issue(op, p, request, data)
        if op in {"issues/update-comment", "issues/delete-comment"}:
            for thread in self.comments.values():
                for comment in thread:
                    if comment["id"] == p["comment_id"]:
                        if op == "issues/delete-comment":
                            thread.remove(comment)
                            return 204, None, {}
                        comment["body"] = data["body"]
                        return 200, comment, {}
            return 404, {"message": "Not Found"}, {}
        return self._serve_release(op, p, request, data, body)

    def _serve_issue(
        self, op: str, p: dict[str, Any], request: Request, data: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if op == "issues/list-for-repo":
            state = request.args.get("state", "open")
            wanted = {x for x in request.args.get("labels", "").split(",") if x}
            found = [
                i for i in self.issues
                if state in ("all", i["state"]) and wanted <= {lb["name"] for lb in i["labels"]}
            ]  # fmt: skip
            if request.args.get("direction", "desc") == "desc":
                found = list(reversed(found))
            return self._page(request, found)
        if op == "issues/create":
            created = self.add_issue(data["title"], data.get("body") or "", data.get("labels", []))
            return 201, created, {}
        issue = self._issue(p["issue_number"])
        if issue is None:
            return 404, {"message": "Not Found"}, {}
        for key in ("title", "body", "state", "state_reason"):
            if key in data:
                issue[key] = data[key]
        issue["closed_at"] = DATE if issue["state"] == "closed" else None
        return 200, issue, {}

    def _issue(self, number: int) -> dict[str, Any] | None:
        return next((i for i in self.issues if i["number"] == number), None)

    def add_issue(self, title: str, body: str, labels: list[Any]) -> dict[str, Any]:
        """An open issue, as ``POST /repos/{owner}/{repo}/issues`` makes it."""
        iid, number = next(self._ids), next(self._issue_numbers)
        names = [lb if isinstance(lb, str) else lb["name"] for lb in labels]
        issue = {
            "id": iid,
            "node_id": f"I_{iid}",
            "number": number,
            "url": self._api("issues", number),
            "repository_url": self.api_url + f"/repos/{OWNER}/{REPO}",
            "labels_url": self._api("issues", number, "labels") + "{/name}",
            "comments_url": self._api("issues", number, "comments"),
            "events_url": self._api("issues", number, "events"),
            "html_url": self._html("issues", number),
            "title": title,
            "body": body,
            "state": "open",
            "locked": False,
            "labels": [
                {
                    "id": 7000 + i,
                    "node_id": f"LA_{i}",
                    "url": self._api("labels", n),
                    "name": n,
                    "color": "d93f0b",
                    "default": False,
                    "description": None,
                }
                for i, n in enumerate(names)
            ],
            "assignee": None,
            "milestone": None,
            "comments": 0,
            "user": user("github-actions[bot]"),
            "author_association": "NONE",
            "created_at": DATE,
            "updated_at": DATE,
            "closed_at": None,
        }
        self.issues.append(issue)
        return issue

    def _serve_release(  # noqa: PLR0911, PLR0912 - one branch per documented operation
        self, op: str, p: dict[str, Any], request: Request, data: Any, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if op == "repos/list-releases":
            return self._page(request, [self._release_view(r) for r in reversed(self.releases)])
        if op == "repos/create-release":
            if any(r["tag_name"] == data["tag_name"] for r in self.releases):
                error = {"resource": "Release", "code": "already_exists", "field": "tag_name"}
                return 422, {"message": "Validation Failed", "errors": [error]}, {}
            created = self._new_release(data)
            self.releases.append(created)
            return 201, self._release_view(created), {}
        if op == "repos/get-release-by-tag":
            for tagged in self.releases:
                if tagged["tag_name"] == p["tag"] and not tagged["draft"]:
                    return 200, self._release_view(tagged), {}
            return 404, {"message": "Not Found"}, {}
        if op == "repos/get-release-asset":
            return self._serve_asset(request, p["asset_id"])
        release = next((r for r in self.releases if r["id"] == p.get("release_id")), None)
        if op == "repos/delete-release-asset":
            for items in self.assets.values():
                for asset in items:
                    if asset["id"] == p["asset_id"]:
                        items.remove(asset)
                        return 204, None, {}
            return 404, {"message": "Not Found"}, {}
        if release is None:
            return 404, {"message": "Not Found"}, {}
        if op == "repos/get-release":
            return 200, self._release_view(release), {}
        if op == "repos/update-release":
            release.update(data)
            return 200, self._release_view(release), {}
        if op == "repos/list-release-assets":
            return self._page(request, self.assets.get(release["id"], []))
        if op == "repos/upload-release-asset":
            name = request.args["name"]
            items = self.assets.setdefault(release["id"], [])
            if any(a["name"] == name for a in items):
                error = {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}
                return 422, {"message": "Validation Failed", "errors": [error]}, {}
            asset = self._asset(name, body, request.content_type or "")
            items.append(asset)
            self.blobs[asset["id"]] = body
            return 201, asset, {}
        return 500, {"message": f"the fake does not serve {op}"}, {}

    def _serve_asset(self, request: Request, asset_id: int) -> tuple[int, Any, dict[str, str]]:
        """Metadata as JSON, or with ``Accept: application/octet-stream`` the bytes: a 302 to a
        pre-signed storage URL, or (``redirect_downloads`` False) streamed by the API itself."""
        asset = next(
            (a for items in self.assets.values() for a in items if a["id"] == asset_id), None
        )
        if asset is None:
            return 404, {"message": "Not Found"}, {}
        if request.headers.get("Accept") != "application/octet-stream":
            return 200, asset, {}
        if not self.redirect_downloads or self.storage is None:
            return 200, self.blobs[asset_id], {}
        signed = self.storage.url_for(f"/release-assets/{asset_id}/{asset['name']}")
        query = urlencode({"sig": self._signature(asset_id), "expires": "300"})
        return 302, None, {"Location": f"{signed}?{query}"}

    def _page(self, request: Request, items: list[Any]) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(request.args.get("per_page", 30)), self.page_size)
        page = int(request.args.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        base = request.base_url
        if page < last:
            links.append(
                f'<{base}?{urlencode({"per_page": per_page, "page": page + 1})}>; rel="next"'
            )
            links.append(f'<{base}?{urlencode({"per_page": per_page, "page": last})}>; rel="last"')
        return 200, chunk, {"Link": ", ".join(links)} if links else {}

    # -- GitHub-shaped objects -------------------------------------------------------------------

    def _html(self, *parts: object) -> str:
        return "https://github.example/" + "/".join([OWNER, REPO, *map(str, parts)])

    def _api(self, *parts: object) -> str:
        return self.api_url + "/repos/" + "/".join([OWNER, REPO, *map(str, parts)])

    def _comment(self, issue: int, body: str, login: str) -> dict[str, Any]:
        cid = next(self._ids)
        return {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": self._api("issues", "comments", cid),
            "html_url": self._html("pull", issue) + f"#issuecomment-{cid}",
            "issue_url": self._api("issues", issue),
            "body": body,
            "user": user(login),
            "created_at": DATE,
            "updated_at": DATE,
            "author_association": "NONE",
        }

    def _new_release(self, data: dict[str, Any]) -> dict[str, Any]:
        rid = next(self._ids)
        return {
            "id": rid,
            "node_id": f"RE_{rid}",
            "url": self._api("releases", rid),
            "html_url": self._html("releases", "tag", data["tag_name"]),
            "assets_url": self._api("releases", rid, "assets"),
            "upload_url": self.uploads.url_for(f"/repos/{OWNER}/{REPO}/releases/{rid}/assets")
            + "{?name,label}",
            "tarball_url": self._api("tarball", data["tag_name"]),
            "zipball_url": self._api("zipball", data["tag_name"]),
            "tag_name": data["tag_name"],
            "target_commitish": data.get("target_commitish", "main"),
            "name": data.get("name"),
            "body": data.get("body"),
            "draft": bool(data.get("draft", False)),
            "prerelease": bool(data.get("prerelease", False)),
            "created_at": DATE,
            "published_at": None if data.get("draft") else DATE,
            "author": user("github-actions[bot]"),
        }

    def _release_view(self, release: dict[str, Any]) -> dict[str, Any]:
        return {**release, "assets": list(self.assets.get(release["id"], []))}

    def _asset(self, name: str, body: bytes, content_type: str) -> dict[str, Any]:
        aid = next(self._ids)
        return {
            "id": aid,
            "node_id": f"RA_{aid}",
            "url": self._api("releases", "assets", aid),
            "browser_download_url": self._html("releases", "download", name),
            "name": name,
            "label": None,
            "state": "uploaded",
            "content_type": content_type,
            "size": len(body),
            "digest": "sha256:" + hashlib.sha256(body).hexdigest(),
            "download_count": 0,
            "created_at": DATE,
            "updated_at": DATE,
            "uploader": user("github-actions[bot]"),
        }


def user(login: str) -> dict[str, Any]:
    """A ``simple-user`` object with every required field."""
    base = f"https://api.github.example/users/{login}"
    return {
        "login": login,
        "id": 41898282,
        "node_id": "MDM6Qm90NDE4OTgyODI=",
        "avatar_url": "https://avatars.github.example/u/41898282",
        "gravatar_id": "",
        "url": base,
        "html_url": f"https://github.example/{login}",
        "followers_url": base + "/followers",
        "following_url": base + "/following{/other_user}",
        "gists_url": base + "/gists{/gist_id}",
        "starred_url": base + "/starred{/owner}{/repo}",
        "subscriptions_url": base + "/subscriptions",
        "organizations_url": base + "/orgs",
        "repos_url": base + "/repos",
        "events_url": base + "/events{/privacy}",
        "received_events_url": base + "/received_events",
        "type": "Bot",
        "site_admin": False,
    }
