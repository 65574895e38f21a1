"""The scoring server: a lean ASGI application (run by uvicorn) speaking MLflow's protocol.

``POST /invocations`` scores JSON, CSV or Parquet bodies; ``GET /ping`` and ``/health`` answer
200 once the model is loaded (503 before); ``/version`` is the server's version as a bare
string (what MLflow's client reads); ``/info`` names the model, version, commit and data;
``/metrics`` is Prometheus text. Logs are one JSON object per line on stderr.

Parsing and prediction run in a bounded thread pool, not on the event loop, so the loop keeps
accepting connections and answering health probes while a model scores. The one exception is a
lone small request to a model with the exact fast path (``fastpath``): with nothing else
admitted, it is parsed and scored on the loop, in less time than the hop to a thread and back;
if the fast path declines its values, it goes to the pool like any other. Requests that arrive
while every pool thread is busy wait in a queue and are scored together, up to ``max_batch`` in
one call of the model (dynamic batching: no request waits for a batch to fill; a model call's
fixed cost, most of a small request's, is paid once per batch). Admission is bounded too:
past ``max_pending`` requests waiting for or in the pool, a request is refused at once with 503
and ``Retry-After`` (back-pressure) instead of queueing until the client times out.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import os
import sys
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import __version__
from mlgate.serve import DEFAULT_MAX_REQUEST_BYTES
from mlgate.serve.capture import Capture, CaptureSettings
from mlgate.serve.metrics import CONTENT_TYPE, Metrics
from mlgate.serve.model import InputError, ServedModel
from mlgate.serve.payload import ParsedRequest, UnsupportedMediaType, parse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


ENV_PREFIX = "MLGATE_SERVE_"
_JSON = [(b"content-type", b"application/json")]
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
# Seconds a refused client is told to wait (503 when the pool's queue is full).
RETRY_AFTER_S = 1
# Default admission bound per prediction thread (--max-pending 0).
PENDING_PER_THREAD = 32
# Default bound of the requests scored in one model call (--max-batch 0).
BATCH_REQUESTS = 32
# Largest body a lone request may have to be scored on the loop (with the model's fast path:
# about 600 rows of dataframe_split, parsed and scored in well under a millisecond).
ON_LOOP_BYTES = 32 * 1024
# ... and only once every request for this long came from one connection (seconds).
SOLE_CLIENT_S = 1.0
_LOG = logging.getLogger("mlgate.serve")


@dataclass(frozen=True)
class ServeSettings:
    """How the server runs; ``from_env`` is what uvicorn's worker processes read."""

    model_dir: Path
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    access_log: bool = True
    threads: int = 0  # prediction threads; 0: the cores this process may use
    max_pending: int = 0  # requests waiting for or in the pool; 0: 32 per thread
    max_batch: int = 0  # requests scored in one model call; 0: 32, 1: no batching
    capture: CaptureSettings = field(default_factory=CaptureSettings)

    @property
    def batch_limit(self) -> int:
        return self.max_batch if self.max_batch > 0 else BATCH_REQUESTS

    @property
    def pool_size(self) -> int:
        return self.threads if self.threads > 0 else usable_cores()

    @property
    def pending_limit(self) -> int:
        return self.max_pending if self.max_pending > 0 else PENDING_PER_THREAD * self.pool_size

    def to_env(self) -> dict[str, str]:
        return {
            ENV_PREFIX + "MODEL_DIR": str(self.model_dir),
            ENV_PREFIX + "MAX_REQUEST_BYTES": str(self.max_request_bytes),
            ENV_PREFIX + "ACCESS_LOG": "1" if self.access_log else "0",
            ENV_PREFIX + "THREADS": str(self.threads),
            ENV_PREFIX + "MAX_PENDING": str(self.max_pending),
            ENV_PREFIX + "MAX_BATCH": str(self.max_batch),
            **self.capture.to_env(),
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
            threads=int(env.get(ENV_PREFIX + "THREADS", "0")),
            max_pending=int(env.get(ENV_PREFIX + "MAX_PENDING", "0")),
            max_batch=int(env.get(ENV_PREFIX + "MAX_BATCH", "0")),
            capture=CaptureSettings.from_env(env),
        )


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform says)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


class TooLarge(Exception):
    pass


@dataclass(frozen=True)
class Scored:
    """What the pool hands back for one request: the answer, and what was scored (for the
    metrics and the capture)."""

    status: int
    body: bytes
    columns: list[list[Any]] | None = None
    predictions: list[Any] | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=lambda: _JSON)


@dataclass(frozen=True)
class _Waiting:
    """An admitted request whose body is read, waiting for a pool thread."""

    body: bytes
    content_type: str
    answer: asyncio.Future[Scored]


class ScoringApp:
    """The ASGI callable. The model loads during lifespan startup; parsing and prediction run
    in a bounded thread pool, so the event loop never waits on a model."""

    def __init__(self, settings: ServeSettings, model: ServedModel | None = None) -> None:
        self.settings = settings
        self.model = model
        self.metrics: Metrics | None = None
        self.pending = 0  # admitted /invocations requests not yet answered (loop thread only)
        self.limit = settings.pending_limit
        self._pool: ThreadPoolExecutor | None = None
        self._queue: deque[_Waiting] = deque()  # loop thread only, like the counter below
        self._scoring = 0  # batches handed to the pool and not finished
        self._client: Any = None  # the connection of the last /invocations request
        self._other_client_at = 0.0  # when a request last came from another connection
        self.capture: Capture | None = None
        self.access = AccessLog()
        self.version_body = _server_version().encode()
        if model is not None:
            self._ready(model)

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.settings.pool_size, thread_name_prefix="mlgate-predict"
            )
        return self._pool

    def close(self) -> None:
        self.access.flush()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self.capture is not None:
            self.capture.close()
            self.capture = None

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
            threads=self.settings.pool_size,
            max_pending=self.limit,
            max_batch=self.settings.batch_limit,
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
        self.info_body = json.dumps(info.version_view()).encode()
        if self.settings.capture.enabled and self.capture is None:
            identity = {"model": info.name, "version": info.version, "sha256": info.sha256}
            self.capture = Capture(self.settings.capture, identity, model.names)
            self.metrics.capture = self.capture.counts
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
                except Exception as exc:  # reported, then the server stops
                    text = getattr(exc, "message", None) or str(exc)
                    log_event("model failed to load", level=logging.ERROR, error=text)
                    await send({"type": "lifespan.startup.failed", "message": text})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        path = scope["path"]
        method = scope["method"]
        request_id = _request_id(scope["headers"])
        if path == "/invocations":
            scored = await self._invocations(scope, receive, method, request_id)
            status, body, headers = scored.status, scored.body, scored.headers
        elif path in ("/ping", "/health"):
            if method != "GET":
                status, body, headers = 405, _error(f"use GET {path}"), _JSON
            else:
                ready = self.model is not None
                status, headers = (200 if ready else 503), _JSON
                body = b'{"status":"ok"}' if ready else b'{"status":"loading"}'
        elif path == "/version" and method == "GET":
            status, body, headers = 200, self.version_body, _TEXT
        elif path == "/info" and method == "GET" and self.model is not None:
            status, body, headers = 200, self.info_body, _JSON
        elif path == "/metrics" and method == "GET" and self.metrics is not None:
            text = self.metrics.render().encode()
            status, body, headers = 200, text, [(b"content-type", CONTENT_TYPE.encode())]
        elif path in _KNOWN:
            status, body, headers = 405, _error(f"use GET {path}"), _JSON
        else:
            status, body, headers = (
                404,
                _error(f"no such endpoint: {method} {path}", "ENDPOINT_NOT_FOUND"),
                _JSON,
            )
        headers = [
            *headers,
            (b"content-length", b"%d" % len(body)),  # no chunked framing
            (b"x-request-id", request_id.encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body if method != "HEAD" else b""})
        elapsed = time.perf_counter() - started
        if self.metrics is not None:
            endpoint = path if path in _KNOWN else "other"
            self.metrics.request(endpoint, status, elapsed)
        if self.settings.access_log or status >= 500:
            self.access.write(
                {
                    "method": method,
                    "path": path,
                    "status": status,
                    "ms": round(elapsed * 1000, 3),
                    "bytes": len(body),
                    "request_id": request_id,
                }
            )

    async def _invocations(
        self, scope: Scope, receive: Receive, method: str, request_id: str
    ) -> Scored:
        model = self.model
        if method != "POST":
            return Scored(405, _error("use POST /invocations"))
        if model is None:
            return Scored(503, _error("the model is still loading", "TEMPORARILY_UNAVAILABLE"))
        content_type, refused = self._headers(scope)
        if refused is not None:
            return Scored(*refused)
        if self.pending >= self.limit:
            # Back-pressure: every thread busy and the queue full. Refuse now, cheaply, so a
            # client retries elsewhere or later instead of waiting for its own timeout.
            if self.metrics is not None:
                self.metrics.rejected += 1
            return Scored(
                503,
                _error(
                    f"the server is at capacity ({self.limit} requests pending); retry shortly",
                    "TEMPORARILY_UNAVAILABLE",
                ),
                headers=[*_JSON, (b"retry-after", b"%d" % RETRY_AFTER_S)],
            )
        self.pending += 1
        try:
            try:
                body = await _read_body(receive, self.settings.max_request_bytes)
            except TooLarge:
                return Scored(413, self._too_large())
            alone = self._alone(model, body, scope.get("client"))
            scored = _score_on_loop(model, body, content_type) if alone else None
            if scored is None:
                answer: asyncio.Future[Scored] = asyncio.get_running_loop().create_future()
                self._queue.append(_Waiting(body, content_type, answer))
                self._dispatch(model)
                scored = await answer
        finally:
            self.pending -= 1
        if scored.predictions is not None:
            if self.metrics is not None:
                self.metrics.predictions(scored.predictions, classifier=model.is_classifier)
            if self.capture is not None:
                self.capture.offer(request_id, scored.columns, scored.predictions)
        return scored

    def _alone(self, model: ServedModel, body: bytes, client: Any) -> bool:
        """Whether to score this request on the loop: it comes from the only connection that
        sent requests in the last ``SOLE_CLIENT_S`` (one connection sends one request at a time,
        so there is nothing to batch), nothing else is admitted or in the pool, the body is
        small and the model has the exact fast path, so that parsing and scoring take well
        under a millisecond, less than the hop to a pool thread and back."""
        now = time.monotonic()
        if client != self._client or client is None:
            self._client, self._other_client_at = client, now
        return (
            now - self._other_client_at > SOLE_CLIENT_S
            and model.fast is not None
            and self.pending == 1
            and self._scoring == 0
            and len(body) <= ON_LOOP_BYTES
        )

    def _dispatch(self, model: ServedModel) -> None:
        """Hand the queued requests to free pool threads, up to ``batch_limit`` per call."""
        loop = asyncio.get_running_loop()
        limit = self.settings.batch_limit if model.batchable else 1
        while self._queue and self._scoring < self.settings.pool_size:
            batch = [self._queue.popleft() for _ in range(min(limit, len(self._queue)))]
            work = [(waiting.body, waiting.content_type) for waiting in batch]
            self._scoring += 1
            done = loop.run_in_executor(self.pool, _score_batch, model, work)
            done.add_done_callback(functools.partial(self._answer, model, batch))

    def _answer(
        self, model: ServedModel, batch: list[_Waiting], done: asyncio.Future[list[Scored]]
    ) -> None:
        self._scoring -= 1
        failure = None if done.cancelled() else done.exception()
        for i, waiting in enumerate(batch):
            if waiting.answer.done():  # the client went away
                continue
            if done.cancelled():
                waiting.answer.cancel()
            elif failure is not None:
                waiting.answer.set_exception(failure)
            else:
                waiting.answer.set_result(done.result()[i])
        self._dispatch(model)

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


def _score_batch(model: ServedModel, work: Sequence[tuple[bytes, str]]) -> list[Scored]:
    """Score several requests with one model call per method (in a pool thread). Each request
    is parsed and validated on its own; a request the model refuses, or a batch the model
    fails on, is scored alone, so every answer is the one the request gets by itself."""
    if len(work) == 1:
        return [_score(model, *work[0])]
    answers: list[Scored | None] = [None] * len(work)
    groups: dict[str | None, list[tuple[int, ParsedRequest, list[Any]]]] = {}
    for i, (body, content_type) in enumerate(work):
        try:
            request = parse(model, body, content_type)
            arrays = model.convert(request.columns)
        except Exception:  # scored alone below, which answers with the error
            request, arrays = None, None
        if request is None or arrays is None or request.rows == 0:
            answers[i] = _score(model, body, content_type)
        else:
            groups.setdefault(request.method, []).append((i, request, arrays))
    for method, members in groups.items():
        try:
            stacked = model.stacked([arrays for _, _, arrays in members])
            predictions: list[Any] | None = model.predict_arrays(stacked, method)
        except Exception:  # each request alone gets its own answer or error
            predictions = None
        if predictions is None or len(predictions) != sum(r.rows for _, r, _ in members):
            for i, _, _ in members:
                answers[i] = _score(model, *work[i])
            continue
        start = 0
        for i, request, _ in members:
            part = predictions[start : start + request.rows]
            start += request.rows
            body = json.dumps({"predictions": part}).encode()
            answers[i] = Scored(200, body, request.columns, part)
    return [answer for answer in answers if answer is not None]


def _score(model: ServedModel, body: bytes, content_type: str) -> Scored:
    """Parse, predict and encode one request (in a pool thread); errors become answers."""
    scored = _scored(model, body, content_type, on_loop=False)
    assert scored is not None  # only an attempt on the loop declines
    return scored


def _score_on_loop(model: ServedModel, body: bytes, content_type: str) -> Scored | None:
    """``_score`` by the fast path alone, or None when the request needs the estimator itself
    (then it goes to the pool): the same answer either way."""
    return _scored(model, body, content_type, on_loop=True)


def _scored(model: ServedModel, body: bytes, content_type: str, *, on_loop: bool) -> Scored | None:
    try:
        request = parse(model, body, content_type)
        arrays = model.convert(request.columns)
        if on_loop:
            predictions = model.fast_predict(arrays, request.method)
            if predictions is None:
                return None
        else:
            predictions = model.predict_arrays(arrays, request.method)
    except UnsupportedMediaType as exc:
        return Scored(415, _error(str(exc), exc.error_code))
    except InputError as exc:
        return Scored(400, _error(str(exc), exc.error_code))
    except RecursionError:
        return Scored(
            400, _error("request body is nested too deeply to parse", "MALFORMED_REQUEST")
        )
    except (ValueError, TypeError, KeyError) as exc:
        # Input of the right types the model still refuses (a category it never saw, a
        # missing value it cannot impute): the request's problem, as in MLflow, a 400.
        log_event("input refused by the model", error=f"{type(exc).__name__}: {exc}")
        return Scored(400, _error(f"the model cannot score this input: {exc}"))
    except Exception as exc:  # the model itself failed: a 500, logged
        log_event("prediction failed", level=logging.ERROR, error=f"{type(exc).__name__}: {exc}")
        return Scored(500, _error(f"the model failed to score the input: {exc}", "INTERNAL_ERROR"))
    return Scored(
        200, json.dumps({"predictions": predictions}).encode(), request.columns, predictions
    )


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is a sane token, else a new random one."""
    for name, value in headers:
        if name == b"x-request-id":
            if 0 < len(value) <= 128 and all(33 <= c < 127 for c in value):
                return value.decode("ascii")
            break
    return uuid.uuid4().hex


def _server_version() -> str:
    return __version__


_KNOWN = frozenset({"/invocations", "/ping", "/health", "/version", "/info", "/metrics"})


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


class AccessLog:
    """The ``request`` log lines. When mlgate's JSON handler (``configure_logging``) is the one
    that writes them, the loop formats each line as that handler would and writes all the lines
    of one turn of the loop in one call, after the answers went out: no log record per request,
    one system call for the requests answered together. With any other logging setup each line
    goes through ``logging`` as before."""

    def __init__(self) -> None:
        self._handler: logging.StreamHandler[Any] | bool | None = False  # False: not looked up
        self._lines: list[str] = []

    def write(self, fields: dict[str, Any]) -> None:
        if self._handler is False:
            self._handler = _json_handler()
        if not isinstance(self._handler, logging.StreamHandler):
            log_event("request", **fields)
            return
        entry = {"ts": round(time.time(), 3), "level": "info", "logger": _LOG.name,
                 "msg": "request", **fields}  # fmt: skip
        self._lines.append(json.dumps(entry, default=str))
        if len(self._lines) == 1:
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        lines, self._lines = self._lines, []
        handler = self._handler
        if not lines or not isinstance(handler, logging.StreamHandler):
            return
        text = handler.terminator.join(lines) + handler.terminator
        handler.acquire()
        try:
            handler.stream.write(text)
            handler.flush()
        except (OSError, ValueError) as exc:  # as in logging: a failed write fails no request
            sys.stderr.write(f"mlgate: {len(lines)} access log line(s) not written: {exc}\n")
        finally:
            handler.release()


def _json_handler() -> logging.StreamHandler[Any] | None:
    """The handler that writes mlgate.serve's INFO records, when it is the one StreamHandler
    with the JSON formatter, with no filters on the way; else None."""
    parent = logging.getLogger("mlgate")
    if (
        not _LOG.isEnabledFor(logging.INFO)
        or _LOG.handlers
        or _LOG.filters
        or not _LOG.propagate
        or parent.propagate
        or parent.filters
        or len(parent.handlers) != 1
    ):
        return None
    handler = parent.handlers[0]
    if (
        type(handler) is not logging.StreamHandler
        or type(handler.formatter) is not JsonFormatter
        or handler.filters
        or handler.level > logging.INFO
    ):
        return None
    return handler


def log_event(message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    if _LOG.isEnabledFor(level):
        _LOG.log(level, message, extra={"fields": fields})


def create_app() -> ScoringApp:
    """uvicorn's factory in each worker process: settings come from the environment."""
    if not logging.getLogger("mlgate").handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    return ScoringApp(ServeSettings.from_env())
