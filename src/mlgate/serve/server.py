"""Run the scoring app on uvicorn (httptools and uvloop when installed), one or more workers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlgate.errors import ExternalError, UsageError
from mlgate.serve import DEFAULT_MAX_REQUEST_BYTES
from mlgate.serve.app import ScoringApp, ServeSettings, configure_logging
from mlgate.serve.capture import CaptureSettings
from mlgate.serve.model import ModelInfo

APP = "mlgate.serve.app:create_app"


@dataclass(frozen=True)
class ServeRequest:
    model_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    access_log: bool = True
    log_level: str = "info"
    threads: int = 0  # prediction threads per worker; 0: the usable cores
    max_pending: int = 0  # per worker; 0: 32 per thread
    max_batch: int = 0  # requests per model call; 0: 32, 1: no batching
    capture: CaptureSettings = field(default_factory=CaptureSettings)


def serve(request: ServeRequest) -> int:
    """Load the model, then serve until interrupted; returns the exit code."""
    try:
        import uvicorn
    except ImportError:
        raise UsageError(
            "the scoring server needs uvicorn, which is not installed",
            hint="pip install 'mlgate[serve]'",
        ) from None

    ModelInfo.read(request.model_dir)  # fail fast (exit 2) before any worker starts
    if request.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {request.workers}")
    if request.threads < 0 or request.max_pending < 0 or request.max_batch < 0:
        raise UsageError("--threads, --max-pending and --max-batch must be 0 (automatic) or more")
    capture = request.capture
    if capture.folder is not None:
        if not 0 < capture.sample <= 1:
            raise UsageError(f"--capture-sample must be in (0, 1], got {capture.sample}")
        folder = capture.folder.resolve()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--capture-dir {folder} cannot be created: {exc}") from None
        capture = replace(capture, folder=folder, workers=request.workers)
    settings = ServeSettings(
        model_dir=request.model_dir.resolve(),
        max_request_bytes=request.max_request_bytes,
        access_log=request.access_log,
        threads=request.threads,
        max_pending=request.max_pending,
        max_batch=request.max_batch,
        capture=capture,
    )
    os.environ.update(settings.to_env())
    log_config = configure_logging(request.log_level)
    options: dict[str, Any] = {
        "factory": True,
        "host": request.host,
        "port": request.port,
        "log_config": log_config,
        "access_log": False,
        "http": _pick("httptools", "auto"),
        "loop": _pick("uvloop", "auto"),
        "lifespan": "on",
        "timeout_graceful_shutdown": 10,
        "server_header": False,
    }
    if request.workers > 1:
        # uvicorn's supervisor forks the workers; each loads the model in its lifespan.
        uvicorn.run(APP, workers=request.workers, **options)
        return 0
    # One worker: load here, so a model that cannot load fails with its own error and exit
    # code before the port opens, and /health is ready as soon as the server listens.
    import logging.config

    logging.config.dictConfig(log_config)
    app = ScoringApp(settings)
    app.load()
    options.pop("factory")
    server = uvicorn.Server(uvicorn.Config(app, **options))
    try:
        server.run()
    except SystemExit:  # uvicorn exits the process when it cannot bind
        server.started = False
    if not server.started:
        raise ExternalError(
            f"the scoring server could not start on {request.host}:{request.port}",
            hint="see the log above; is the port already in use?",
        )
    return 0


def _pick(module: str, fallback: str) -> str:
    import importlib.util

    return module if importlib.util.find_spec(module) is not None else fallback
