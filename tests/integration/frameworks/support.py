"""A small model project per framework and task, trained by a real training script, and the
path every model format goes through: validate (metrics, slices, bootstrap against a champion,
latency and size budgets), repro --rerun, publish --context-only, and serving the published
model folder in-process (the MLflow scoring protocol)."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from mlgate import formats, gitio, proc
from mlgate.verdict import Status, read_verdict
from tests.conftest import invoke

BINARY, MULTICLASS, REGRESSION = (
    "binary-classification",
    "multiclass-classification",
    "regression",
)
TASKS = (BINARY, MULTICLASS, REGRESSION)
FEATURES = ("a", "b", "c", "d")
ROWS = 400

GATES = {
    BINARY: {
        "roc_auc": {"direction": "higher", "min": 0.7, "max_regression": 0.3, "bootstrap": True},
        "log_loss": {"direction": "lower", "max": 0.69},
        "accuracy": {"direction": "higher", "min": 0.6},
    },
    MULTICLASS: {
        "accuracy": {"direction": "higher", "min": 0.5, "max_regression": 0.3, "bootstrap": True},
        "multiclass_log_loss": {"direction": "lower", "max": 1.09},
    },
    REGRESSION: {
        "rmse": {"direction": "lower", "max": 1.5, "max_regression": 1.0, "bootstrap": True},
        "mae": {"direction": "lower", "max": 1.2},
    },
}

GAP_METRIC = {BINARY: "roc_auc", MULTICLASS: "accuracy", REGRESSION: "rmse"}

# Preamble of every training script: data, task, seed, the output path and the model size.
PREAMBLE = """\
import os, shutil, sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
TASK = {task!r}
FEATURES = {features!r}
train = pd.read_csv(HERE / "data" / "train.csv")
X, y = train[list(FEATURES)], train["y"].to_numpy()
SEED = int(os.environ.get("MLGATE_SEED", "0"))
OUT = HERE / (sys.argv[1] if len(sys.argv) > 1 else "artifacts/model")
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 30
CLASSIFIER = TASK != "regression"
OUT.parent.mkdir(parents=True, exist_ok=True)
"""


def frame(seed: int, task: str, rows: int = ROWS) -> pd.DataFrame:
    """Four numeric features, a slice column, and a noisy target of the task."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=list(FEATURES))
    signal = 1.5 * data["a"] - data["b"] + 0.5 * data["c"] + rng.normal(scale=0.5, size=rows)
    if task == BINARY:
        data["y"] = (signal > 0).astype(int)
    elif task == MULTICLASS:
        data["y"] = np.digitize(signal, [-0.8, 0.8])
    else:
        data["y"] = signal
    data["segment"] = rng.choice(["north", "south"], rows)
    return data


@dataclass(frozen=True)
class Project:
    root: Path
    model_file: Path
    task: str
    model_rel: str
    train_script: Path

    def train_champion(self, out_rel: str, size: int) -> Path:
        """The same training script with fewer trees/iterations: a weaker champion."""
        proc.run([sys.executable, self.train_script.name, out_rel, str(size)],
                 cwd=self.train_script.parent)  # fmt: skip
        return self.train_script.parent / out_rel


def make_project(
    tmp_path: Path,
    *,
    task: str,
    model_rel: str,
    script: str,
    repro_mode: str = "bitwise",
    extra_model: dict[str, Any] | None = None,
) -> Project:
    """A git repository with one model: data, training script, mlgate.yaml (no format set:
    mlgate detects it from the file)."""
    root = tmp_path / "project"
    folder = root / "models" / "m"
    (folder / "data").mkdir(parents=True)
    frame(1, task).to_csv(folder / "data" / "train.csv", index=False)
    frame(2, task).to_csv(folder / "data" / "eval.csv", index=False)
    body = PREAMBLE.format(task=task, features=FEATURES) + textwrap.dedent(script)
    (folder / "train.py").write_text(body)
    config = {
        "version": 1,
        "models": [
            {
                "name": "m",
                "path": "models/m",
                "train": {
                    "command": f"python train.py {model_rel}",
                    "seed": 7,
                    "outputs": [model_rel],
                },
                "data": {
                    "train": "data/train.csv",
                    "eval": "data/eval.csv",
                    "target": "y",
                    "sensitive": ["segment"],
                },
                "model": {"file": model_rel, "task": task, **(extra_model or {})},
                "repro": {"mode": repro_mode, "tolerance": {"predictions": 1e-6}},
                "gates": {
                    "metrics": GATES[task],
                    "slices": {
                        "columns": ["segment"],
                        "min_size": 50,
                        "max_gap": {GAP_METRIC[task]: 2.0},
                    },
                    "bootstrap": {"samples": 200, "seed": 1},
                    "budgets": {
                        "max_file_size_mb": 50,
                        "latency_p95_ms": 2000,
                        "latency_rows": 10,
                    },
                    "champion": {"on_missing": "value-only"},
                },
                "publish": {"image": "registry.example/m", "base_image": "python:3.11-slim"},
            }
        ],
    }
    (root / "mlgate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / ".gitignore").write_text(".mlgate/\n")
    gitio.git(["init", "--quiet", "--initial-branch=main"], root)
    gitio.git(["add", "--all"], root)
    gitio.git(["commit", "--quiet", "-m", "project"], root)
    return Project(root, folder / model_rel, task, model_rel, folder / "train.py")


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheel cache for every publish of the session (each requirement set downloads once)."""
    return tmp_path_factory.mktemp("wheel-cache")


def train(project: Project) -> None:
    out = invoke("train", cwd=project.root)
    assert out.exit_code == 0, out.output
    assert project.model_file.exists()


def validate(project: Project, champion: Path) -> dict[str, Any]:
    """``mlgate validate --champion``: every check passes; returns the verdict's context."""
    out_dir = project.root / "verdicts"
    result = invoke("validate", "--champion", str(champion), "--out", str(out_dir),
                    cwd=project.root)  # fmt: skip
    verdict = read_verdict(out_dir / "validation.json")
    failed = [c.message for c in verdict.checks if c.status == Status.FAIL]
    assert result.exit_code == 0, (failed, result.output)
    ids = {c.id for c in verdict.checks}
    assert {"model.challenger", "model.champion", "budget.file_size"} <= ids, ids
    assert any(i.startswith("slice.segment.") and i.endswith(".max_gap") for i in ids), ids
    assert any(i.startswith("metric.") and i.endswith(".bootstrap") for i in ids), ids
    assert any(i.startswith("budget.latency") for i in ids), ids
    return dict(verdict.context)


def repro(project: Project, *, expect: str = "identical bytes") -> list[str]:
    """``mlgate repro --rerun --runs 1``: the re-run's model agrees with the working tree's."""
    out_dir = project.root / "repro-out"
    result = invoke("repro", "--rerun", "--runs", "1", "--out", str(out_dir), cwd=project.root)
    verdict = read_verdict(out_dir / "repro.json")
    messages = [c.message for c in verdict.checks]
    assert result.exit_code == 0, (messages, result.output)
    assert any(expect in m for m in messages), messages
    return messages


def publish(project: Project, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``mlgate publish --context-only``: the build context, no Docker engine needed."""
    monkeypatch.setenv("MLGATE_CACHE_DIR", str(wheel_cache))
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    context = project.root.parent / "context"
    result = invoke("publish", "--context-only", "--out", str(context), cwd=project.root)
    assert result.exit_code == 0, result.output
    assert (context / "Dockerfile").is_file()
    return context


def pins(context: Path) -> dict[str, str]:
    """name -> version of every wheel the image installs (the wheelhouse's requirements)."""
    found = {}
    for line in (context / "wheelhouse" / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            found[name.strip().lower()] = version.split(";")[0].strip()
    return found


def installed(distribution: str) -> str:
    from importlib import metadata

    return metadata.version(distribution)


def serve_in_process(context: Path, rows: pd.DataFrame, method: str) -> tuple[dict[str, Any], Any]:
    """Load the published model folder as ``mlgate serve`` does and score ``rows`` through the
    ASGI app (MLflow's ``dataframe_split`` with ``params.method``); returns model.json and the
    predictions."""
    from mlgate.serve.app import Message, ScoringApp, ServeSettings
    from mlgate.serve.model import ServedModel

    served = ServedModel.load(context / "model")
    app = ScoringApp(ServeSettings(context / "model", access_log=False), served)
    columns = [name for name, _ in served.info.signature]
    payload = {
        "dataframe_split": {"columns": columns, "data": rows[columns].to_numpy().tolist()},
        "params": {"method": method},
    }
    body = json.dumps(payload).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invocations",
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    sent: list[Message] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200, sent
    metadata = json.loads((context / "model" / "model.json").read_text())
    return metadata, json.loads(sent[1]["body"])["predictions"]


def expected_predictions(
    project: Project, rows: pd.DataFrame, metadata: dict[str, Any], method: str
) -> Any:
    """What the served model must answer: the in-process model, loaded safely, on the rows."""
    model = formats.load(project.model_file, task=project.task, trusted=True)
    columns = [c["name"] for c in metadata["signature"]["inputs"]]
    return getattr(model, method)(rows[columns])


def full_path(
    project: Project,
    *,
    champion_size: int,
    wheel_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    runtime: tuple[str, ...],
    absent: tuple[str, ...],
    fmt: str,
    repro_expect: str = "identical bytes",
) -> dict[str, Any]:
    """Train, validate against a weaker champion, re-run, publish and serve one model; the
    image pins ``runtime`` at the training environment's versions and none of ``absent``."""
    train(project)
    champion = project.train_champion("champion/" + Path(project.model_rel).name, champion_size)
    context = validate(project, champion)
    assert context["challenger"]["sha256"]
    repro(project, expect=repro_expect)
    built = publish(project, wheel_cache, monkeypatch)
    pinned = pins(built)
    for name in runtime:
        assert pinned.get(name) == installed(name), (name, pinned)
    for name in absent:
        assert name not in pinned, (name, sorted(pinned))
    rows = frame(3, project.task, rows=25)
    methods = ["predict"] if project.task == REGRESSION else ["predict", "predict_proba"]
    metadata: dict[str, Any] = {}
    for method in methods:
        metadata, got = serve_in_process(built, rows, method)
        want = np.asarray(expected_predictions(project, rows, metadata, method))
        if want.dtype.kind in "fc":
            np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-5, atol=1e-6)
        else:
            assert np.asarray(got).tolist() == want.tolist()
        if method == "predict_proba":
            assert np.asarray(got).shape == (len(rows), 3 if project.task == MULTICLASS else 2)
    assert metadata["format"] == fmt
    return {"context": context, "metadata": metadata, "pins": pinned}


# Framework runtimes a published image of one family must not carry for another.
RUNTIMES = ("xgboost-cpu", "xgboost", "lightgbm", "catboost", "onnxruntime", "mlflow-skinny")


def others(*mine: str) -> tuple[str, ...]:
    return tuple(r for r in RUNTIMES if r not in mine)


def environment_has(*modules: str) -> None:
    for module in modules:
        pytest.importorskip(module)
