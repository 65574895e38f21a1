"""A trained starter model in a served-model folder, and ``mlgate serve`` as a real process."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from mlgate import proc
from mlgate.config.loader import load_config
from mlgate.publish.metadata import build_bundle
from mlgate.publish.settings import PublishSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def served_model_dir(starter: Path, folder: Path) -> Path:
    """Train the starter and write its served-model folder (model.json + model file)."""
    proc.run([sys.executable, "train.py"], cwd=starter / "models" / "churn")
    config = load_config(starter / "mlgate.yaml")
    model = config.model()
    bundle = build_bundle(model, PublishSettings.from_model(config, model), version="v0.1.0",
                          commit=None)  # fmt: skip
    folder.mkdir()
    shutil.copy(bundle.model_file, folder / bundle.metadata["model_file"])
    (folder / "model.json").write_text(json.dumps(bundle.metadata))
    return folder


@contextlib.contextmanager
def running_server(model_dir: Path, log: Path, *args: str) -> Iterator[str]:
    """``mlgate serve --model-dir model_dir ARGS`` on a free port, its output in ``log``; the
    base URL once /health answers 200; terminated when the block ends."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlgate", "serve", "--model-dir", str(model_dir),
             "--port", str(port), *args],
            stdout=sink, stderr=sink,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)  # waiting for a server to start, not ordering events
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
