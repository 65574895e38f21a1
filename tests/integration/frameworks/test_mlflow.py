"""MLflow model directories (saved by real MLflow) with the sklearn (skops), xgboost,
lightgbm (Booster), catboost and onnx flavors: loaded with each flavor's own safe loader,
validated, re-run (MLmodel timestamps and ids compared by canonical content), published with
the directory's requirements at the versions it was saved with, and served with the MLmodel
signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.frameworks.support import (
    BINARY,
    MULTICLASS,
    REGRESSION,
    environment_has,
    full_path,
    make_project,
    others,
    wheel_cache,
)

__all__ = ["wheel_cache"]

# The requirements are given (MLflow would otherwise infer them by loading the model in a
# subprocess, seconds per save): the distributions providing the modules, at their versions.
SAVE = """
from importlib import metadata
from mlflow.models import infer_signature
if OUT.exists():
    shutil.rmtree(OUT)
signature = infer_signature(X, y)
providers = metadata.packages_distributions()
def provided(module):
    # Python 3.10's packages_distributions reads only top_level.txt, which wheels built with
    # meson (scikit-learn) do not have: then the distributions whose files hold the module.
    return providers.get(module) or [
        d.metadata["Name"] for d in metadata.distributions()
        if any(f.parts[0] == module for f in d.files or ())
    ]
def pins(*modules):
    return [f"{d}=={metadata.version(d)}" for m in modules for d in provided(m)]
"""

SKLEARN = (
    SAVE
    + """
import mlflow.sklearn
from sklearn.linear_model import LogisticRegression, Ridge
model = (LogisticRegression(max_iter=SIZE) if CLASSIFIER else Ridge(alpha=1 / SIZE)).fit(X, y)
mlflow.sklearn.save_model(model, OUT, signature=signature, serialization_format="skops",
                          pip_requirements=pins("sklearn", "skops"))
"""
)

XGBOOST = (
    SAVE
    + """
import mlflow.xgboost, xgboost as xgb
kind = xgb.XGBClassifier if CLASSIFIER else xgb.XGBRegressor
model = kind(n_estimators=SIZE, max_depth=3, random_state=SEED, n_jobs=1).fit(X, y)
mlflow.xgboost.save_model(model, OUT, signature=signature, pip_requirements=pins("xgboost"))
"""
)

LIGHTGBM = (
    SAVE
    + """
import lightgbm as lgb, mlflow.lightgbm
objective = {"binary-classification": "binary", "multiclass-classification": "multiclass",
             "regression": "regression"}[TASK]
params = {"objective": objective, "num_leaves": 8, "seed": SEED, "num_threads": 1,
          "deterministic": True, "force_row_wise": True, "verbose": -1}
if TASK == "multiclass-classification":
    params["num_class"] = 3
booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=SIZE)
mlflow.lightgbm.save_model(booster, OUT, signature=signature, pip_requirements=pins("lightgbm"))
"""
)

CATBOOST = (
    SAVE
    + """
import catboost as cb, mlflow.catboost
kind = cb.CatBoostClassifier if CLASSIFIER else cb.CatBoostRegressor
model = kind(iterations=SIZE, depth=4, random_seed=SEED, thread_count=1, verbose=0,
             allow_writing_files=False).fit(X, y)
mlflow.catboost.save_model(model, OUT, signature=signature, pip_requirements=pins("catboost"))
"""
)

ONNX = (
    SAVE
    + """
import mlflow.onnx
from skl2onnx import to_onnx
from sklearn.linear_model import LinearRegression, LogisticRegression
features = X.to_numpy(dtype=np.float32)
model = (LogisticRegression(max_iter=200) if CLASSIFIER else LinearRegression()).fit(features, y)
options = {"zipmap": False} if CLASSIFIER else None
mlflow.onnx.save_model(to_onnx(model, features[:1], options=options), OUT,
                       pip_requirements=pins("onnxruntime"))
"""
)

CASES = [
    # flavor, task, script, the modules it needs, the image's runtime distributions
    ("sklearn", BINARY, SKLEARN, ("sklearn",), ("scikit-learn", "skops")),
    ("sklearn", REGRESSION, SKLEARN, ("sklearn",), ("scikit-learn", "skops")),
    ("xgboost", MULTICLASS, XGBOOST, ("xgboost",), ("xgboost-cpu",)),
    ("lightgbm", BINARY, LIGHTGBM, ("lightgbm",), ("lightgbm",)),
    ("lightgbm", MULTICLASS, LIGHTGBM, ("lightgbm",), ("lightgbm",)),
    ("catboost", REGRESSION, CATBOOST, ("catboost",), ("catboost",)),
    ("onnx", BINARY, ONNX, ("onnxruntime", "skl2onnx"), ("onnxruntime",)),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flavor", "task", "script", "modules", "runtime"),
    CASES,
    ids=[f"{c[0]}-{c[1].split('-')[0]}" for c in CASES],
)
def test_mlflow_model_directory_validates_reruns_publishes_and_serves(
    flavor: str,
    task: str,
    script: str,
    modules: tuple[str, ...],
    runtime: tuple[str, ...],
    tmp_path: Path,
    wheel_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment_has("mlflow", *modules)
    project = make_project(tmp_path, task=task, model_rel="artifacts/model", script=script)
    result = full_path(
        project,
        champion_size=2,
        wheel_cache=wheel_cache,
        monkeypatch=monkeypatch,
        runtime=runtime,
        absent=(*others(*runtime), "mlflow", "mlflow-skinny"),
        fmt="mlflow",
        repro_expect="identical mlflow content",
    )
    inputs = result["metadata"]["signature"]["inputs"]
    assert [c["name"] for c in inputs] == ["a", "b", "c", "d"]  # the MLmodel signature
    assert result["metadata"]["model_file"] == "model"  # the directory, copied whole
