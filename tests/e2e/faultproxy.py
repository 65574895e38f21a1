"""A fault-injecting HTTP proxy for a container registry, on loopback, in a thread of the test.

Docker talks plain HTTP to ``127.0.0.1:PORT`` registries, so the proxy sees every request of a
push: it answers a chosen status (500 by default) to the first N blob uploads and manifest
uploads, and forwards everything else, streaming, to the real registry. Upload URLs stay on the
proxy because the ``Host`` header is forwarded unchanged (the registry builds ``Location`` from it).
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

BLOB_UPLOAD = re.compile(r"^/v2/.+/blobs/uploads/?(\?.*)?$")  # POST: start (or mount) a blob
MANIFEST = re.compile(r"^/v2/.+/manifests/[^/]+$")  # PUT: the manifest, the push's last step
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}  # fmt: skip
NEVER = 10**9  # a fault count that never runs out: the registry never recovers


@dataclass
class Faults:
    """How many blob and manifest uploads still fail, and what was injected so far."""

    blob_uploads: int = 0
    manifests: int = 0
    status: int = 500
    injected: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def should_fail(self, method: str, path: str) -> bool:
        with self.lock:
            if method == "POST" and BLOB_UPLOAD.match(path) and self.blob_uploads > 0:
                self.blob_uploads -= 1
            elif method == "PUT" and MANIFEST.match(path) and self.manifests > 0:
                self.manifests -= 1
            else:
                self.forwarded.append(f"{method} {path}")
                return False
            self.injected.append(f"{method} {path}")
            return True

    def count(self, kind: str) -> int:
        pattern = BLOB_UPLOAD if kind == "blob" else MANIFEST
        return sum(1 for line in self.injected if pattern.match(line.split(" ", 1)[1]))

    def succeeded(self, method: str, pattern: re.Pattern[str]) -> int:
        return sum(
            1
            for line in self.forwarded
            if line.startswith(method + " ") and pattern.match(line.split(" ", 1)[1])
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as docker expects
    upstream: ClassVar[str]
    faults: ClassVar[Faults]

    def log_message(self, *_: object) -> None:  # the test reads Faults, not an access log
        return None

    def do_GET(self) -> None:
        self._relay()

    def do_HEAD(self) -> None:
        self._relay()

    def do_POST(self) -> None:
        self._relay()

    def do_PUT(self) -> None:
        self._relay()

    def do_PATCH(self) -> None:
        self._relay()

    def do_DELETE(self) -> None:
        self._relay()

    def _relay(self) -> None:
        if self.faults.should_fail(self.command, self.path):
            for _ in self._body():  # read the upload before answering, as a registry would
                pass
            self._answer_fault()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if not chunked and "Content-Length" not in self.headers:
            body: object = None
        else:
            body = self._body()
            headers.pop("Content-Length", None) if chunked else None
        upstream = http.client.HTTPConnection(self.upstream, timeout=300)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers,  # type: ignore[arg-type]
                             encode_chunked=chunked)  # fmt: skip
            response = upstream.getresponse()
            payload = response.read()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() in HOP_BY_HOP:
                    continue
                if key.lower() == "content-length" and self.command != "HEAD":
                    continue
                self.send_header(key, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            upstream.close()

    def _answer_fault(self) -> None:
        text = b'{"errors":[{"code":"UNKNOWN","message":"injected fault"}]}\n'
        self.send_response(self.faults.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def _body(self) -> Iterator[bytes]:
        """The request body, streamed: chunked transfer encoding decoded, or Content-Length."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                yield self.rfile.read(size)
                self.rfile.readline()  # the CRLF after each chunk
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            block = self.rfile.read(min(remaining, 1 << 20))
            if not block:
                return
            remaining -= len(block)
            yield block


class FaultProxy:
    """``with FaultProxy(registry_host, Faults(...)) as proxy:`` -> push to ``proxy.host``."""

    def __init__(self, upstream: str, faults: Faults) -> None:
        handler = type("Handler", (_Handler,), {"upstream": upstream, "faults": faults})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.faults = faults
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
