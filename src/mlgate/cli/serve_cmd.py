"""``mlgate serve``: the scoring server (what the published image runs)."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.serve import DEFAULT_MAX_REQUEST_BYTES


@click.command()
@click.option(
    "--model-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="MLGATE_MODEL_DIR",
    required=True,
    help="Folder with model.json and the model file (written by mlgate publish).",
)
@click.option("--host", default="127.0.0.1", envvar="MLGATE_HOST", show_default=True,
              help="Address to listen on (0.0.0.0 in a container; also MLGATE_HOST).")  # fmt: skip
@click.option(
    "--port",
    default=8080,
    type=click.IntRange(0, 65535),
    envvar="MLGATE_PORT",
    show_default=True,
    help="Port to listen on (0: any free port; also MLGATE_PORT).",
)
@click.option(
    "--workers",
    default=1,
    type=click.IntRange(1, 64),
    envvar="MLGATE_WORKERS",
    show_default=True,
    help="Worker processes (each loads the model).",
)
@click.option(
    "--max-request-bytes",
    default=DEFAULT_MAX_REQUEST_BYTES,
    type=click.IntRange(1),
    envvar="MLGATE_MAX_REQUEST_BYTES",
    show_default=True,
    help="Larger request bodies are refused with 413.",
)
@click.option(
    "--threads",
    default=0,
    type=click.IntRange(0, 256),
    envvar="MLGATE_THREADS",
    show_default=True,
    help="Prediction threads per worker (0: the cores the process may use).",
)
@click.option(
    "--max-pending",
    default=0,
    type=click.IntRange(0),
    envvar="MLGATE_MAX_PENDING",
    show_default=True,
    help="Requests queued or scoring per worker before new ones get 503 with Retry-After "
    "(0: 32 per thread).",
)
@click.option(
    "--max-batch",
    default=0,
    type=click.IntRange(0, 4096),
    envvar="MLGATE_MAX_BATCH",
    show_default=True,
    help="Queued requests scored together in one model call (0: 32; 1: one call per request).",
)
@click.option(
    "--capture-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="MLGATE_CAPTURE_DIR",
    default=None,
    help="Capture scored requests and predictions as JSON-lines files here (off when unset).",
)
@click.option(
    "--capture-sample",
    default=1.0,
    type=float,
    envvar="MLGATE_CAPTURE_SAMPLE",
    show_default=True,
    help="Fraction of requests captured.",
)
@click.option(
    "--capture-exclude",
    default="",
    envvar="MLGATE_CAPTURE_EXCLUDE",
    help="Comma-separated columns left out of captured records.",
)
@click.option(
    "--capture-hash",
    default="",
    envvar="MLGATE_CAPTURE_HASH",
    help="Comma-separated columns captured as salted sha256 (salt: MLGATE_CAPTURE_SALT).",
)
@click.option(
    "--capture-max-mb",
    default=1024,
    type=click.IntRange(1),
    envvar="MLGATE_CAPTURE_MAX_MB",
    show_default=True,
    help="Disk budget of the capture folder; the oldest files are deleted past it.",
)
@click.option(
    "--capture-rotate-mb",
    default=64.0,
    type=click.FloatRange(min=0, min_open=True),
    envvar="MLGATE_CAPTURE_ROTATE_MB",
    show_default=True,
    help="A new capture file once the current one holds this much.",
)
@click.option(
    "--capture-rotate-minutes",
    default=60.0,
    type=click.FloatRange(min=0, min_open=True),
    envvar="MLGATE_CAPTURE_ROTATE_MINUTES",
    show_default=True,
    help="A new capture file once the current one is this old.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    envvar="MLGATE_ACCESS_LOG",
    show_default=True,
    help="One JSON log line per request.",
)
@click.option(
    "--log-level",
    default="info",
    type=click.Choice(["debug", "info", "warning", "error"]),
    show_default=True,
    help="Server log detail.",
)
def serve(  # one parameter per flag, as click passes them
    model_dir: Path,
    host: str,
    port: int,
    workers: int,
    max_request_bytes: int,
    threads: int,
    max_pending: int,
    max_batch: int,
    capture_dir: Path | None,
    capture_sample: float,
    capture_exclude: str,
    capture_hash: str,
    capture_max_mb: int,
    capture_rotate_mb: float,
    capture_rotate_minutes: float,
    access_log: bool,
    log_level: str,
) -> int:
    """Serve a model over HTTP with the MLflow scoring protocol.

    POST /invocations (JSON dataframe_split, dataframe_records, instances, inputs; CSV or
    Parquet), GET /ping, /health, /version (bare version string), /info (model, version,
    commit, data) and /metrics (Prometheus).
    """
    import os

    from mlgate.serve import server
    from mlgate.serve.capture import CaptureSettings

    def names(text: str) -> tuple[str, ...]:
        return tuple(n.strip() for n in text.split(",") if n.strip())

    mb = 1024 * 1024
    capture = CaptureSettings(
        folder=capture_dir,
        sample=capture_sample,
        exclude=names(capture_exclude),
        hashed=names(capture_hash),
        salt=os.environ.get("MLGATE_CAPTURE_SALT", ""),
        rotate_bytes=max(1, int(capture_rotate_mb * mb)),
        rotate_seconds=capture_rotate_minutes * 60,
        max_bytes=capture_max_mb * mb,
    )
    return server.serve(
        server.ServeRequest(
            model_dir=model_dir,
            host=host,
            port=port,
            workers=workers,
            max_request_bytes=max_request_bytes,
            access_log=access_log,
            log_level=log_level,
            threads=threads,
            max_pending=max_pending,
            max_batch=max_batch,
            capture=capture,
        )
    )
