"""One HTTP request to an ASGI app in the test's own event loop: no server, no socket."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlgate.serve.app import Message, ScoringApp


async def request(
    app: ScoringApp,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Sequence[tuple[bytes, bytes]] = (),
    client: tuple[str, int] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the answer to one request (the body in one message)."""
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path,
                             "headers": list(headers)}  # fmt: skip
    if client is not None:
        scope["client"] = client
    chunks = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body_msg = sent
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body_msg["body"]
