"""XGBoost, LightGBM and CatBoost models in their own file formats, for every task: trained by
a real script, validated, re-run, published and served, with no trusted_types and no pickle."""

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

__all__ = ["wheel_cache"]  # the session fixture, used by the tests below

XGBOOST = """
import xgboost as xgb
kind = xgb.XGBClassifier if CLASSIFIER else xgb.XGBRegressor
model = kind(n_estimators=SIZE, max_depth=3, random_state=SEED, n_jobs=1, tree_method="hist")
model.fit(X, y)
model.save_model(OUT)
"""

LIGHTGBM = """
import lightgbm as lgb
kind = lgb.LGBMClassifier if CLASSIFIER else lgb.LGBMRegressor
model = kind(n_estimators=SIZE, num_leaves=8, random_state=SEED, n_jobs=1, deterministic=True,
             force_row_wise=True, verbose=-1)
model.fit(X, y)
model.booster_.save_model(OUT)
"""

CATBOOST = """
import catboost as cb
kind = cb.CatBoostClassifier if CLASSIFIER else cb.CatBoostRegressor
model = kind(iterations=SIZE, depth=4, random_seed=SEED, thread_count=1, verbose=0,
             allow_writing_files=False)
model.fit(X, y)
model.save_model(str(OUT))
"""

CASES = {
    # framework: (module, training script, model file, the image's runtime distribution)
    "xgboost-json": ("xgboost", XGBOOST, "artifacts/model.json", "xgboost-cpu", "xgboost"),
    "xgboost-ubj": ("xgboost", XGBOOST, "artifacts/model.ubj", "xgboost-cpu", "xgboost"),
    "lightgbm": ("lightgbm", LIGHTGBM, "artifacts/model.txt", "lightgbm", "lightgbm"),
    "catboost": ("catboost", CATBOOST, "artifacts/model.cbm", "catboost", "catboost"),
}


# Every framework in every task; UBJ is the same XGBoost model as JSON, so one task shows it.
RUNS = [(case, task) for case in CASES for task in TASKS if case != "xgboost-ubj"]
RUNS.append(("xgboost-ubj", TASKS[0]))


@pytest.mark.slow
@pytest.mark.parametrize(("case", "task"), RUNS, ids=[f"{c}-{t.split('-')[0]}" for c, t in RUNS])
def test_native_boosting_model_validates_reruns_publishes_and_serves(
    case: str, task: str, tmp_path: Path, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, script, model_rel, runtime, fmt = CASES[case]
    environment_has(module)
    project = make_project(tmp_path, task=task, model_rel=model_rel, script=script)
    # CatBoost stamps each model with its training time and a random id: the re-run is
    # compared by canonical content (the JSON export without those two).
    expect = "identical catboost content" if fmt == "catboost" else "identical bytes"
    result = full_path(
        project,
        champion_size=3,
        wheel_cache=wheel_cache,
        monkeypatch=monkeypatch,
        runtime=(runtime,),
        absent=others(runtime, "xgboost-cpu" if runtime == "xgboost" else runtime),
        fmt=fmt,
        repro_expect=expect,
    )
    metadata = result["metadata"]
    assert metadata["trusted_types"] == []
    expected_method = "predict" if task == "regression" else "predict_proba"
    assert metadata["method"] in ("predict", expected_method)
