"""ONNX models (converted with skl2onnx, with and without ZipMap) for every task: validated,
re-run, published with onnxruntime as the only framework runtime, and served."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.frameworks.support import (
    TASKS,
    environment_has,
    full_path,
    make_project,
    others,
    wheel_cache,
)

__all__ = ["wheel_cache"]

SKL2ONNX = """
from skl2onnx import to_onnx
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

features = X.to_numpy(dtype=np.float32)
if TASK == "binary-classification":  # ZipMap output: a list of {class: probability}
    model, options = RandomForestClassifier(n_estimators=SIZE, max_depth=4, random_state=SEED), None
elif TASK == "multiclass-classification":  # a probability tensor, labels in the graph
    model = LogisticRegression(max_iter=200 if SIZE > 5 else 1)
    options = {"zipmap": False}
else:
    model, options = GradientBoostingRegressor(n_estimators=SIZE, random_state=SEED), None
model.fit(features, y)
onnx_model = to_onnx(model, features[:1], options=options)
OUT.write_bytes(onnx_model.SerializeToString())
"""


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_onnx_model_validates_reruns_publishes_and_serves(
    task: str, tmp_path: Path, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment_has("onnxruntime", "skl2onnx")
    project = make_project(tmp_path, task=task, model_rel="artifacts/model.onnx", script=SKL2ONNX)
    result = full_path(
        project,
        champion_size=2,
        wheel_cache=wheel_cache,
        monkeypatch=monkeypatch,
        runtime=("onnxruntime",),
        absent=(*others("onnxruntime"), "onnx", "skl2onnx"),
        fmt="onnx",
    )
    assert result["metadata"]["trusted_types"] == []
