"""Running models, slices and data checks: bad input is named, never passed silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from mlgate.config.sections import ColumnRule, DataSettings, SliceSettings
from mlgate.errors import ConfigError, Location
from mlgate.gates.datacheck import build_contract, data_checks
from mlgate.gates.metrics import BINARY, REGRESSION, resolve_metric
from mlgate.gates.predict import compute_metric, model_features, run_model
from mlgate.gates.slices import SliceMetric, slice_checks
from mlgate.verdict import Status

HERE = Location("mlgate.yaml")


def data(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(0, 60, n),
            "plan": rng.choice(["basic", "pro"], n),
            "group": rng.choice(["a", "b", "c"], n, p=[0.45, 0.45, 0.1]),
        }
    )
    frame["churned"] = ((frame.tenure < 20) ^ (rng.random(n) < 0.2)).astype(int)
    return frame


def classifier(frame: pd.DataFrame) -> Pipeline:
    prep = ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough")
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=500))])
    return model.fit(frame[["tenure", "plan"]], frame["churned"])


class Exploding:
    feature_names_in_ = np.array(["tenure"])

    def predict(self, _frame: pd.DataFrame) -> np.ndarray:
        raise KeyError("tenure_v2")


def test_the_model_runs_on_the_columns_it_was_fitted_on() -> None:
    frame = data()
    model = classifier(frame)
    assert model_features(model, ["anything"]) == ["tenure", "plan"]
    out = run_model(model, frame, task=BINARY, features=["tenure", "plan"])
    assert out.error is None
    assert out.score is not None
    assert out.context is not None
    assert out.context.positive == 1


def test_missing_feature_columns_are_named() -> None:
    frame = data()
    out = run_model(
        classifier(frame), frame.drop(columns="plan"), task=BINARY, features=["tenure", "plan"]
    )
    assert out.missing == ("plan",)
    assert "lacks column(s) the model needs: plan" in (out.error or "")
    auc = resolve_metric("roc_auc", BINARY, location=HERE)
    value = compute_metric(auc, frame["churned"].to_numpy(), out)
    assert value.value is None
    assert "could not be run" in (value.error or "")


def test_predict_raising_is_reported_not_raised() -> None:
    out = run_model(Exploding(), data(), task=BINARY, features=["tenure"])
    assert out.error == "predict raised KeyError: 'tenure_v2'"


class HalfNaN:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.where(np.arange(len(frame)) % 2, np.nan, 1.0)


def test_regression_predictions_that_are_not_numbers_are_refused() -> None:
    frame = data()
    out = run_model(HalfNaN(), frame, task=REGRESSION, features=["tenure"])
    assert out.error == "predict returned 200 values that are NaN or infinite"
    model = LinearRegression().fit(frame[["tenure"]], frame["churned"])
    fine = run_model(model, frame, task=REGRESSION, features=["tenure"])
    assert fine.error is None


def test_a_positive_label_the_model_does_not_know_is_a_configuration_error() -> None:
    frame = data()
    where = Location("mlgate.yaml", 12, 7, "models[0].model.positive_label")
    with pytest.raises(ConfigError, match="positive_label 'yes' is not one of the model's classes"):
        run_model(
            classifier(frame),
            frame,
            task=BINARY,
            features=["tenure", "plan"],
            positive_label="yes",
            positive_location=where,
        )
    ok = run_model(
        classifier(frame), frame, task=BINARY, features=["tenure", "plan"], positive_label="0"
    )
    assert ok.context is not None
    assert ok.context.positive == 0


def test_a_nan_metric_fails_with_the_reason() -> None:
    frame = data()
    out = run_model(classifier(frame), frame, task=BINARY, features=["tenure", "plan"])
    one_class = np.ones(len(frame), dtype=int)
    auc = resolve_metric("roc_auc", BINARY, location=HERE)
    value = compute_metric(auc, one_class, out)
    assert value.value is None
    assert value.error


def test_slices_drop_small_groups_and_bound_the_gap() -> None:
    frame = data(600)
    model = classifier(frame)
    out = run_model(model, frame, task=BINARY, features=["tenure", "plan"])
    auc = resolve_metric("accuracy", BINARY, location=HERE)
    settings = SliceSettings(
        columns=("group",),
        min_size=100,
        bounds={"accuracy": (0.5, None)},
        max_gap={"accuracy": 0.2},
    )
    checks = {
        c.id: c
        for c in slice_checks(
            settings,
            frame,
            frame["churned"].to_numpy(),
            out,
            out,
            {"accuracy": SliceMetric(auc, "higher")},
            lambda *_: HERE,
        )
    }
    assert checks["slice.group=c"].status is Status.SKIP
    assert "dropped" in checks["slice.group=c"].message
    assert checks["slice.group=a.accuracy.min"].status is Status.PASS
    gap = checks["slice.group.accuracy.max_gap"]
    assert gap.status is Status.PASS
    assert set(gap.details["slices"]) == {"a", "b"}
    assert gap.champion == pytest.approx(gap.observed)
    tight = SliceSettings(columns=("group",), min_size=100, max_gap={"accuracy": 0.0})
    failing = slice_checks(
        tight,
        frame,
        frame["churned"].to_numpy(),
        out,
        None,
        {"accuracy": SliceMetric(auc, "higher")},
        lambda *_: HERE,
    )
    assert failing[-1].status is Status.FAIL


def test_an_unknown_slice_column_is_a_configuration_error_with_a_guess() -> None:
    frame = data()
    out = run_model(classifier(frame), frame, task=BINARY, features=["tenure", "plan"])
    with pytest.raises(ConfigError) as info:
        slice_checks(
            SliceSettings(columns=("grup",)),
            frame,
            frame["churned"].to_numpy(),
            out,
            None,
            {},
            lambda *_: HERE,
        )
    assert info.value.hint == "did you mean 'group'?"


def test_inferred_contract_catches_wrong_types_nulls_and_missing_columns() -> None:
    training = data()
    current = data(seed=1)
    current["tenure"] = current["tenure"].astype(str)
    current.loc[3, "tenure"] = "unknown"
    current.loc[:40, "plan"] = None
    current = current.drop(columns="group")
    settings = DataSettings()
    contract = build_contract(settings, training, ["tenure", "plan", "group", "churned"])
    checks = {c.id: c for c in data_checks(contract, current, settings)}
    assert checks["data.tenure.dtype"].status is Status.FAIL
    assert "'unknown'" in checks["data.tenure.dtype"].message
    assert checks["data.plan.null_rate"].status is Status.FAIL
    assert checks["data.group.present"].status is Status.FAIL
    assert checks["data.churned"].status is Status.PASS


def test_explicit_rules_fail_and_inferred_ranges_only_warn() -> None:
    training = data()
    current = data(seed=2)
    current.loc[0, "tenure"] = 500
    current.loc[1, "plan"] = "enterprise"
    settings = DataSettings(columns={"plan": ColumnRule(dtype="string", categories=("basic",))})
    contract = build_contract(settings, training, ["tenure", "plan"])
    checks = {c.id: c for c in data_checks(contract, current, settings)}
    assert checks["data.tenure.max"].status is Status.WARN
    assert checks["data.plan.categories"].status is Status.FAIL
    assert "'enterprise'" in checks["data.plan.categories"].message
    assert checks["data.plan.categories"].config_key == ("gates", "data", "columns", "plan")
    assert contract.to_dict()["columns"][0]["source"] == "config"
