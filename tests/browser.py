"""Headless Chromium driven over the DevTools protocol: open a page, collect what went wrong
(console errors, uncaught exceptions, log errors, network requests), take a screenshot."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1280,1600",
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageVisit:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    evaluated: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""

    @property
    def problems(self) -> list[str]:
        return self.console_errors + self.exceptions + self.log_errors


class DevTools:
    """One websocket to the browser, commands to one page session in flat mode."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, after: int = 0) -> dict[str, Any]:
        """The first ``method`` event from position ``after`` on, reading more as needed."""
        for event in self.events[after:]:
            if event.get("method") == method:
                return event
        while True:
            event = json.loads(self.ws.recv())
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        self.ws.close()


@contextmanager
def browser() -> Iterator[DevTools]:
    """A fresh headless Chromium with its own profile folder, and a DevTools connection to it."""
    binary = chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (Debian package 'chromium')")
    profile = tempfile.mkdtemp(prefix="mlgate-chromium-")
    # Its own session: Chromium's helper processes (renderer, crashpad) go with it, so none is
    # still writing into the profile folder when the folder is removed.
    process = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        url = _devtools_url(process)
        tools = DevTools(url)
        try:
            yield tools
        finally:
            tools.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.stderr:
            process.stderr.close()
        # A helper killed a moment ago may still drop a file: the folder's removal never fails
        # the test (it is a temporary profile, nothing the test asserts on).
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_url(process: subprocess.Popen[str]) -> str:
    """Chromium prints ``DevTools listening on ws://...`` to stderr once it is ready."""
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("DevTools listening on "):
            return line.split(" on ", 1)[1].strip()
    raise RuntimeError("chromium exited before DevTools was ready:\n" + "".join(seen[-20:]))


def _wait_until_loaded(tools: DevTools, session: str, url: str) -> None:
    """Until the page at ``url`` has finished loading (a late about:blank load event is skipped)."""
    seen = 0
    check = "document.readyState === 'complete' ? location.href : ''"
    for _ in range(20):
        tools.wait_for("Page.loadEventFired", after=seen)
        seen = len(tools.events)
        answer = tools.send("Runtime.evaluate", session, expression=check, returnByValue=True)
        if answer["result"].get("value") == url:
            return
    raise RuntimeError(f"{url} did not finish loading")


MERMAID_VERSION = "11.17.2"


def mermaid_js() -> Path | None:
    """mermaid.min.js from the npm registry, installed once into the user's cache folder for
    the tests (never into the repository or the package); None without npm."""
    import os

    given = os.environ.get("MLGATE_MERMAID_JS")
    if given:
        return Path(given)
    folder = Path.home() / ".cache" / "mlgate-tests" / f"mermaid-{MERMAID_VERSION}"
    script = folder / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
    if script.is_file():
        return script
    npm = shutil.which("npm")
    if npm is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: TID251 - a test helper, not mlgate
        [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--silent",
         f"mermaid@{MERMAID_VERSION}"],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return script if script.is_file() else None


def visit(page: Path, script: str) -> PageVisit:
    """Load ``page`` (a file), evaluate ``script`` (JSON-returning JS, or a promise of it) and
    screenshot it."""
    found = PageVisit()
    with browser() as tools:
        target = tools.send("Target.createTarget", url="about:blank")["targetId"]
        session = tools.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.send(f"{domain}.enable", session)
        url = page.resolve().as_uri()
        tools.events.clear()  # anything before this belongs to about:blank
        tools.send("Page.navigate", session, url=url)
        _wait_until_loaded(tools, session, url)
        result = tools.send(
            "Runtime.evaluate", session, expression=script, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"the probe script failed: {result['exceptionDetails']}")
        found.evaluated = json.loads(result["result"]["value"])
        shot = tools.send(
            "Page.captureScreenshot", session, format="png", captureBeyondViewport=True
        )
        found.screenshot = base64.b64decode(shot["data"])
        for event in tools.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                found.console_errors.append(json.dumps(params.get("args"))[:300])
            elif method == "Runtime.exceptionThrown":
                found.exceptions.append(json.dumps(params.get("exceptionDetails"))[:300])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.log_errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                found.requests.append(params["request"]["url"])
    return found
