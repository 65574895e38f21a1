"""Publishing against a real Docker engine and a real registry with htpasswd auth."""

from __future__ import annotations

import json
import sys
import textwrap
import zipfile
from pathlib import Path

import docker
import pytest
import requests

from tests.conftest import invoke
from tests.e2e import infra
from tests.e2e.conftest import make_project

# What `mlgate init` writes: the base image of the Python running it.
STARTER_BASE = f"base_image: python:{sys.version_info.major}.{sys.version_info.minor}-slim"

pytestmark = pytest.mark.e2e


def _expected(project: Path, rows: int) -> tuple[list[list[object]], list[str], list[float]]:
    import pandas as pd

    from mlgate import formats

    frame = pd.read_csv(project / "models/churn/data/eval.csv").head(rows)
    columns = [c for c in frame.columns if c not in ("churned", "gender")]
    model = formats.load(project / "models/churn/artifacts/model.skops")
    proba = model.predict_proba(frame[columns])[:, 1].tolist()
    data = frame[columns].astype(object).values.tolist()
    return data, columns, proba


def test_build_smoke_push_pull_by_digest_run_and_predict(
    project: Path, base_image: str, credentials: infra.Registry, tmp_path: Path
) -> None:
    out = invoke("publish", "--base-image", base_image, "--registry", credentials.host,
                 "--push", "--json", cwd=project)  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["smoke"]["passed"]
    assert result["smoke"]["rows"] == 50
    digest_ref = result["image_digest_ref"]
    assert digest_ref.startswith(f"{credentials.host}/your-org/churn@sha256:")
    record = json.loads((project / ".mlgate/out/churn/publish.json").read_text())
    assert record["digest"] == result["digest"]

    engine = docker.from_env()
    try:
        engine.images.remove(result["image"], force=True)
        auth = {"username": credentials.username, "password": credentials.password}
        pulled = engine.images.pull(digest_ref, auth_config=auth)
        labels = pulled.labels
        assert (
            labels["org.opencontainers.image.revision"]
            == record["labels"]["org.opencontainers.image.revision"]
        )
        assert (
            labels["io.mlgate.model.sha256"]
            == json.loads((project / ".mlgate/out/churn/publish.json").read_text())["labels"][
                "io.mlgate.model.sha256"
            ]
        )
        assert {"org.opencontainers.image.created", "org.opencontainers.image.version"} <= set(
            labels
        )
        port = infra.free_port()
        # Capture on, into a folder of the host, rotating every kilobyte (a few records).
        capture = tmp_path / "capture"
        capture.mkdir()
        capture.chmod(0o777)  # the server runs as an unprivileged user in the container
        container = engine.containers.run(
            digest_ref, detach=True, network_mode="host",
            environment={"MLGATE_PORT": str(port), "MLGATE_HOST": "127.0.0.1",
                         "MLGATE_CAPTURE_DIR": "/capture", "MLGATE_CAPTURE_ROTATE_MB": "0.001"},
            volumes={str(capture): {"bind": "/capture", "mode": "rw"}},
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"

            def healthy() -> bool:
                try:
                    return requests.get(url + "/health", timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            infra.wait_until(healthy, 60, "the pulled image's server")
            data, columns, proba = _expected(project, 20)
            answer = requests.post(
                url + "/invocations",
                json={"dataframe_split": {"columns": columns, "data": data},
                      "params": {"method": "predict_proba"}},
                timeout=30,
            )  # fmt: skip
            assert answer.status_code == 200, answer.text
            got = [row[1] for row in answer.json()["predictions"]]
            assert got == pytest.approx(proba, abs=1e-12)
            bad = requests.post(
                url + "/invocations", json={"dataframe_records": [{"tenure": 1}]}, timeout=10
            )
            assert bad.status_code == 400
            assert "tenure_months" in bad.json()["message"]
            version = requests.get(url + "/info", timeout=10).json()
            assert version["model_sha256"] == labels["io.mlgate.model.sha256"]
            metrics = requests.get(url + "/metrics", timeout=10).text
            assert 'mlgate_requests_total{endpoint="/invocations",status="200"} 1' in metrics
            ids = _score_each(url, columns, data)
        finally:
            container.stop(timeout=20)  # SIGTERM: the capture writer drains and closes
            container.remove(force=True)
        _assert_captured(capture, ids, labels["io.mlgate.model.sha256"])
    finally:
        engine.close()


def test_the_smoke_test_over_a_bridge_network_reaches_the_published_port(
    tmp_path: Path, base_image: str
) -> None:
    """``smoke_network: bridge`` (Docker Desktop has no host network): the server listens on all
    of the container's addresses and the smoke test reaches it through a port mapped on
    127.0.0.1."""
    project = make_project(tmp_path / "bridge")
    config = (project / "mlgate.yaml").read_text()
    config = config.replace(STARTER_BASE, STARTER_BASE + "\n      smoke_network: bridge")
    (project / "mlgate.yaml").write_text(config)
    engine = docker.from_env()
    try:
        before = {c.id for c in engine.containers.list(all=True)}
        out = invoke("publish", "--base-image", base_image, "--json", cwd=project)
        assert out.exit_code == 0, out.output
        result = json.loads(out.stdout)
        assert result["smoke"]["passed"]
        assert result["smoke"]["rows"] == 50
        assert {c.id for c in engine.containers.list(all=True)} == before  # removed afterwards
        engine.images.remove(result["image"], force=True)
    finally:
        engine.close()


def test_wrong_credentials_fail_clearly_and_push_nothing(
    project: Path, base_image: str, registry: infra.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLGATE_REGISTRY_USERNAME", registry.username)
    monkeypatch.setenv("MLGATE_REGISTRY_PASSWORD", "wrong-password")
    before = registry.catalog()
    out = invoke("publish", "--base-image", base_image, "--registry", registry.host, "--push",
                 cwd=project)  # fmt: skip
    assert out.exit_code == 3, out.output
    assert "refused" in out.stderr
    assert "MLGATE_REGISTRY_USERNAME" in out.stderr
    assert "attempts" not in out.stderr  # an auth error is not retried
    assert registry.catalog() == before


def test_registry_down_retries_then_exits_3(
    project: Path, base_image: str, credentials: infra.Registry
) -> None:
    closed = f"127.0.0.1:{infra.free_port()}"
    out = invoke("publish", "--base-image", base_image, "--registry", closed, "--push",
                 cwd=project)  # fmt: skip
    assert out.exit_code == 3, out.output
    assert "gave up after 3 attempts" in out.stderr
    assert out.stderr.count("retrying in") == 2


SHIFTY = '''
"""A transformer whose output depends on where it runs: scaled inside a container."""
import os

from sklearn.base import BaseEstimator, TransformerMixin


class Shifty(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        factor = 1.5 if os.path.exists("/model/model.json") else 1.0
        return X * factor
'''


def _wheel(folder: Path) -> Path:
    """A hand-made wheel of the ``shifty`` module (no build backend, no network)."""
    path = folder / "shifty-1.0-py3-none-any.whl"
    files = {
        "shifty.py": SHIFTY,
        "shifty-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: shifty\nVersion: 1.0\n",
        "shifty-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: "
        "true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + "shifty-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in {**files, "shifty-1.0.dist-info/RECORD": record}.items():
            zf.writestr(name, text)
    return path


def test_container_predictions_that_differ_fail_the_smoke_test_and_nothing_is_pushed(
    tmp_path: Path, base_image: str, credentials: infra.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    project = make_project(tmp_path / "shifty-project")
    (project / "pkg").mkdir()
    (project / "pkg" / "shifty.py").write_text(SHIFTY)
    monkeypatch.syspath_prepend(str(project / "pkg"))
    wheel = _wheel(project / "pkg")
    import shifty  # type: ignore[import-not-found]

    model_dir = project / "models" / "churn"
    train = pd.read_csv(model_dir / "data/train.csv")
    numeric = ["tenure_months", "monthly_charges", "support_calls", "age"]
    model = Pipeline([("shift", shifty.Shifty()), ("clf", LogisticRegression(max_iter=500))])
    model.fit(train[numeric], train["churned"])
    sio.dump(model, model_dir / "artifacts/model.skops")
    config = (project / "mlgate.yaml").read_text()
    config = config.replace("target: churned", "target: churned\n      features: ["
                            + ", ".join(numeric) + "]")  # fmt: skip
    config = config.replace(
        "task: binary-classification",
        "task: binary-classification\n      trusted_types: [shifty.Shifty]",
    )
    config = config.replace(
        STARTER_BASE,
        STARTER_BASE + "\n" + textwrap.indent(f"packages: [{wheel}]", " " * 6),
    )
    config = config.replace("ghcr.io/your-org/churn", "ghcr.io/your-org/shifty")
    (project / "mlgate.yaml").write_text(config)

    out = invoke("publish", "--base-image", base_image, "--registry", credentials.host, "--push",
                 cwd=project)  # fmt: skip
    assert out.exit_code == 1, out.output
    assert "smoke test: 50 of 50 predictions in the container differ" in out.stderr
    assert "nothing was pushed" in out.stderr
    assert "your-org/shifty" not in credentials.catalog()
    assert not (project / ".mlgate/out/churn/publish.json").exists()


def _score_each(url: str, columns: list[str], data: list[list[object]]) -> list[str]:
    """One request per row; the request ids the server answered with."""
    ids = []
    for row in data:
        body = {"dataframe_split": {"columns": columns, "data": [row]}}
        answer = requests.post(url + "/invocations", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        ids.append(answer.headers["x-request-id"])
    return ids


def _assert_captured(folder: Path, ids: list[str], sha256: str) -> None:
    """The container captured every request, in order, into more than one rotated file."""
    files = sorted(folder.glob("capture-*.jsonl"))
    records = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert len(files) > 1, files
    assert [r["request_id"] for r in records][-len(ids) :] == ids
    assert records[-1]["sha256"] == sha256
