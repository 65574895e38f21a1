"""The scoring server: a lean ASGI application (run by uvicorn) speaking MLflow's protocol.

``POST /invocations`` scores JSON or CSV bodies; ``GET /ping`` and ``/health`` answer 200 once
the model is loaded (503 before); ``/version`` names the model, version, commit and data;
``/metrics`` is Prometheus text. Logs are one JSON object per line on stderr.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.serve import DEFAULT_MAX_REQUEST_BYTES
from mlgate.serve.metrics import CONTENT_TYPE, Metrics
from mlgate.serve.model import InputError, ServedModel
from mlgate.serve.payload import UnsupportedMediaType, parse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


ENV_PREFIX = "MLGATE_SERVE_"
_JSON = [(b"content-type", b"application/json")]
_LOG = logging.getLogger("mlgate.serve")


@dataclass(frozen=True)
class ServeSettings:
    """How the server runs; ``from_env`` is what uvicorn's worker processes read."""

    model_dir: Path
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    access_log: bool = True

    def to_env(self) -> dict[str, str]:
        return {
            ENV_PREFIX + "MODEL_DIR": str(self.model_dir),
            ENV_PREFIX + "MAX_REQUEST_BYTES": str(self.max_request_bytes),
            ENV_PREFIX + "ACCESS_LOG": "1" if self.access_log else "0",
        }

    @classmethod
    def from_env(cls) -> ServeSettings:
        env = os.environ
        return cls(
            model_dir=Path(env[ENV_PREFIX + "MODEL_DIR"]),
            max_request_bytes=int(
                env.get(ENV_PREFIX + "MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES)
            ),
            access_log=env.get(ENV_PREFIX + "ACCESS_LOG", "1") != "0",
        )


class TooLarge(Exception):
    pass


class ScoringApp:
    """The ASGI callable. The model loads during lifespan startup; requests never wait on I/O."""

    def __init__(self, settings: ServeSettings, model: ServedModel | None = None) -> None:
        self.settings = settings
        self.model = model
        self.metrics: Metrics | None = None
        if model is not None:
            self._ready(model)

    def load(self) -> None:
        started = time.perf_counter()
        model = ServedModel.load(self.settings.model_dir)
        self._ready(model)
        # The model and libraries live as long as the process: keep them out of the cyclic
        # garbage collector's generations, so collections during requests stay short.
        gc.collect()
        gc.freeze()
        log_event(
            "model loaded",
            model=model.info.name,
            version=model.info.version,
            sha256=model.info.sha256,
            seconds=round(time.perf_counter() - started, 3),
        )

    def _ready(self, model: ServedModel) -> None:
        info = model.info
        buckets = info.raw.get("prediction_buckets") or ()
        self.metrics = Metrics(
            {
                "name": info.name,
                "version": info.version or "",
                "commit": info.commit or "",
                "sha256": info.sha256 or "",
            },
            buckets,
        )
        self.version_body = json.dumps(info.version_view()).encode()
        self.model = model

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.model is None:
                        self.load()
                except Exception as exc:  # noqa: BLE001 - reported, then the server stops
                    text = getattr(exc, "message", None) or str(exc)
                    log_event("model failed to load", level=logging.ERROR, error=text)
                    await send({"type": "lifespan.startup.failed", "message": text})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        path = scope["path"]
        method = scope["method"]
        if path == "/invocations":
            status, body, headers = await self._invocations(scope, receive, method)
        elif path in ("/ping", "/health"):
            ready = self.model is not None
            status, headers = (200 if ready else 503), _JSON
            body = b'{"status":"ok"}' if ready else b'{"status":"loading"}'
        elif path == "/version" and self.model is not None:
            status, body, headers = 200, self.version_body, _JSON
        elif path == "/metrics" and self.metrics is not None:
            text = self.metrics.render().encode()
            status, body, headers = 200, text, [(b"content-type", CONTENT_TYPE.encode())]
        else:
            status, body, headers = 404, _error(f"no such endpoint: {method} {path}"), _JSON
        headers = [*headers, (b"content-length", b"%d" % len(body))]  # no chunked framing
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        elapsed = time.perf_counter() - started
        if self.metrics is not None:
            endpoint = path if path in _KNOWN else "other"
            self.metrics.request(endpoint, status, elapsed)
        if self.settings.access_log or status >= 500:
            log_event(
                "request",
                method=method,
                path=path,
                status=status,
                ms=round(elapsed * 1000, 3),
                bytes=len(body),
            )

    async def _invocations(
        self, scope: Scope, receive: Receive, method: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        model = self.model
        if method != "POST":
            return 405, _error("use POST /invocations"), _JSON
        if model is None:
            return 503, _error("the model is still loading"), _JSON
        content_type, refused = self._headers(scope)
        if refused is not None:
            return refused[0], refused[1], _JSON
        try:
            body = await _read_body(receive, self.settings.max_request_bytes)
        except TooLarge:
            return 413, self._too_large(), _JSON
        try:
            request = parse(model, body, content_type)
            frame = model.frame(request.columns)
            predictions = model.predict(frame, request.method)
        except UnsupportedMediaType as exc:
            return 415, _error(str(exc)), _JSON
        except InputError as exc:
            return 400, _error(str(exc)), _JSON
        except (ValueError, TypeError, KeyError) as exc:
            # Input of the right types the model still refuses (a category it never saw, a
            # missing value it cannot impute): the request's problem, as in MLflow, a 400.
            log_event("input refused by the model", error=f"{type(exc).__name__}: {exc}")
            return 400, _error(f"the model cannot score this input: {exc}"), _JSON
        except Exception as exc:  # noqa: BLE001 - the model itself failed: a 500, logged
            log_event(
                "prediction failed", level=logging.ERROR, error=f"{type(exc).__name__}: {exc}"
            )
            return (
                500,
                _error(f"the model failed to score the input: {exc}", "INTERNAL_ERROR"),
                _JSON,
            )
        if self.metrics is not None:
            self.metrics.predictions(predictions, classifier=model.is_classifier)
        return 200, json.dumps({"predictions": predictions}).encode(), _JSON

    def _headers(self, scope: Scope) -> tuple[str, tuple[int, bytes] | None]:
        """The content type, and the answer when the headers already refuse the request."""
        content_type = ""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                if not value.strip().isdigit():
                    return "", (400, _error(f"invalid Content-Length header: {value[:40]!r}"))
                if int(value) > self.settings.max_request_bytes:
                    return "", (413, self._too_large())
        return content_type, None

    def _too_large(self) -> bytes:
        limit = self.settings.max_request_bytes
        return _error(f"request body exceeds the limit of {limit} bytes (--max-request-bytes)")


_KNOWN = frozenset({"/invocations", "/ping", "/health", "/version", "/metrics"})


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _error(message: str, code: str = "BAD_REQUEST") -> bytes:
    return json.dumps({"error_code": code, "message": message}).encode()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "info") -> dict[str, Any]:
    """JSON logs on stderr for mlgate and uvicorn; returns uvicorn's ``log_config``."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
            for name in ("mlgate", "uvicorn", "uvicorn.error")
        }
        | {"uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
    }


def log_event(message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    if _LOG.isEnabledFor(level):
        _LOG.log(level, message, extra={"fields": fields})


def create_app() -> ScoringApp:
    """uvicorn's factory in each worker process: settings come from the environment."""
    if not logging.getLogger("mlgate").handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    return ScoringApp(ServeSettings.from_env())
