"""The scoring server's fast path gives the estimator's own predictions, bit for bit, and hands
every request it cannot reproduce exactly to the estimator; a lone small request it can score is
scored on the event loop."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlgate.serve import app as app_module
from mlgate.serve import fastpath
from mlgate.serve.app import ON_LOOP_BYTES, ScoringApp, ServeSettings, _score, _score_batch
from mlgate.serve.model import ModelInfo, ServedModel
from tests.unit.asgi import request

NUMERIC = ["tenure", "charges", "calls"]
CATEGORICAL = ["contract", "region"]
KINDS = {"tenure": "integer", "charges": "float", "calls": "integer", "contract": "string",
         "region": "category", "note": "string"}  # fmt: skip


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure": rng.integers(0, 72, rows),
            "charges": rng.normal(70, 30, rows),
            "calls": rng.integers(0, 9, rows),
            "contract": rng.choice(["monthly", "annual", "two-year"], rows),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "note": rng.choice(["x", "y"], rows),  # in the signature, dropped by the pipeline
        }
    )


def _served(
    handle_unknown: str = "ignore", numeric: tuple[str, ...] = tuple(NUMERIC), **columns: Any
) -> ServedModel:
    frame = _frame(400, 0)[[*NUMERIC, *CATEGORICAL]]
    target = ((frame["charges"] > 70) ^ (frame["contract"] == "annual")).astype(int)
    pipeline = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("numeric", StandardScaler(), list(numeric)),
                        ("categorical", OneHotEncoder(handle_unknown=handle_unknown), CATEGORICAL),
                    ],
                    **columns,
                ),
            ),
            ("classifier", LogisticRegression(max_iter=500)),
        ]
    ).fit(frame, target)
    info = ModelInfo.from_dict(
        {
            "name": "churn",
            "model_file": "model.skops",
            "task": "binary-classification",
            "signature": {"inputs": [{"name": n, "type": t} for n, t in KINDS.items()]},
        }
    )
    return ServedModel(info, pipeline)


@pytest.fixture(scope="module")
def served() -> ServedModel:
    return _served()


def _columns(frame: pd.DataFrame) -> list[list[Any]]:
    return [frame[name].astype(object).tolist() for name in KINDS]


def _body(frame: pd.DataFrame, **extra: Any) -> bytes:
    data = frame[list(KINDS)].astype(object).values.tolist()
    return json.dumps({"dataframe_split": {"columns": list(KINDS), "data": data}, **extra}).encode()


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_the_fast_path_gives_the_estimators_bits_in_batches_and_row_by_row(
    served: ServedModel, method: str
) -> None:
    assert served.fast is not None
    frame = _frame(300, 1)
    arrays = served.convert(_columns(frame))
    theirs = getattr(served.estimator, method)(frame)
    mine = served.fast.predict(arrays, method)
    assert mine is not None
    assert mine.dtype == theirs.dtype
    assert np.array_equal(mine, theirs)
    for row in range(0, 300, 7):
        alone = served.fast.predict([a[row : row + 1] for a in arrays], method)
        assert alone is not None
        assert np.array_equal(alone, getattr(served.estimator, method)(frame.iloc[row : row + 1]))


def test_the_scoring_answers_are_the_estimators(served: ServedModel) -> None:
    frame = _frame(40, 2)
    for extra, method in (
        ({}, "predict"),
        ({"params": {"method": "predict_proba"}}, "predict_proba"),
    ):
        scored = _score(served, _body(frame, **extra), "application/json")
        assert scored.status == 200
        expected = getattr(served.estimator, method)(frame).tolist()
        assert json.loads(scored.body) == {"predictions": expected}
    work = [(_body(frame.iloc[i : i + 3]), "application/json") for i in range(0, 12, 3)]
    assert _score_batch(served, work) == [_score(served, *item) for item in work]


def test_values_the_plan_cannot_reproduce_go_to_the_estimator(served: ServedModel) -> None:
    assert served.fast is not None
    frame = _frame(5, 3)
    unseen = frame.assign(region=["north", "moon", "east", "west", "south"])
    arrays = served.convert(_columns(unseen))
    assert served.fast.predict(arrays, "predict") is None
    # The estimator encodes the unseen category as zeros, and its answer is the server's.
    assert served.predict_arrays(arrays) == served.estimator.predict(unseen).tolist()
    raw = _columns(frame)
    raw[list(KINDS).index("contract")][0] = None
    assert served.fast.predict(served.convert(raw), "predict") is None
    nan = frame.assign(charges=[np.nan, 1.0, 2.0, 3.0, 4.0])
    assert served.fast.predict(served.convert(_columns(nan)), "predict") is None
    scored = _score(served, _body(nan).replace(b"NaN", b"null"), "application/json")
    assert scored.status == 400  # the estimator's own refusal of NaN, as before
    assert "NaN" in json.loads(scored.body)["message"]


def test_an_unknown_category_the_encoder_refuses_is_still_its_400() -> None:
    strict = _served(handle_unknown="error")
    assert strict.fast is not None
    scored = _score(strict, _body(_frame(2, 4).assign(region="moon")), "application/json")
    assert scored.status == 400
    assert "unknown categories" in json.loads(scored.body)["message"]


@pytest.mark.parametrize(
    "columns",
    [
        {"remainder": "passthrough", "numeric": ("tenure", "charges")},
        {"sparse_threshold": 1.0},
        {"transformer_weights": {"numeric": 2}},
    ],
    ids=["passthrough", "sparse-output", "weights"],
)
def test_shapes_the_plan_does_not_reproduce_have_no_plan(columns: dict[str, Any]) -> None:
    served = _served(**columns)
    assert served.fast is None
    frame = _frame(6, 5)
    assert served.predict_arrays(served.convert(_columns(frame))) == (
        served.estimator.predict(frame).tolist()
    )


def test_a_plan_that_does_not_reproduce_the_estimator_is_not_used(served: ServedModel) -> None:
    assert served.fast is not None
    probe = served.convert(fastpath.probe_columns(served.fast, served.kinds))

    class Off:
        def predict(self, frame: pd.DataFrame) -> Any:
            return served.estimator.predict(frame) ^ 1

    assert fastpath.verified(served.fast, Off(), ["predict"], probe, served.frame_of) is None
    assert (
        fastpath.verified(served.fast, served.estimator, served.methods, probe, served.frame_of)
        is served.fast
    )


def _post(app: ScoringApp, body: bytes, port: int = 50000) -> tuple[int, Any]:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    answer = request(app, "POST", "/invocations", body, headers, client=("127.0.0.1", port))
    status, _, out = asyncio.run(answer)
    return status, json.loads(out)


def _pool_started(app: ScoringApp) -> bool:
    return app._pool is not None


def test_a_lone_small_request_is_scored_on_the_loop_and_one_the_plan_declines_in_the_pool(
    served: ServedModel, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "SOLE_CLIENT_S", -1.0)  # one connection: at once
    app = ScoringApp(ServeSettings(tmp_path, access_log=False), served)
    frame = _frame(4, 6)
    assert _post(app, _body(frame)) == (
        200,
        {"predictions": served.estimator.predict(frame).tolist()},
    )
    assert _post(app, b'{"inputs": 3}')[0] == 400
    assert not _pool_started(app)  # no thread was needed
    unseen = frame.assign(region="moon")
    expected = served.estimator.predict(unseen).tolist()
    assert _post(app, _body(unseen)) == (200, {"predictions": expected})
    assert _pool_started(app)  # the estimator scored it, in the pool
    app.close()
    large = _frame(1000, 7)
    assert len(_body(large)) > ON_LOOP_BYTES
    app = ScoringApp(ServeSettings(tmp_path, access_log=False), served)
    assert _post(app, _body(large)) == (
        200,
        {"predictions": served.estimator.predict(large).tolist()},
    )
    assert _pool_started(app)
    app.close()


def test_requests_from_several_connections_go_to_the_pool(
    served: ServedModel, tmp_path: Any
) -> None:
    app = ScoringApp(ServeSettings(tmp_path, access_log=False), served)
    frame = _frame(2, 8)
    expected = (200, {"predictions": served.estimator.predict(frame).tolist()})
    for port in (50001, 50002, 50001):  # batching needs the pool when connections overlap
        assert _post(app, _body(frame), port) == expected
    assert _pool_started(app)
    app.close()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"inputs": 3}',
        b'{"dataframe_records": [{"tenure": 1}]}',
        b'{"dataframe_split": {"columns": ["tenure"], "data": [[1, 2]]}}',
        b'{"instances": [[1, 2.5, 3, "annual", "north", "x"]], "params": {"method": "explode"}}',
        b'{"instances": [["one", 2.5, 3, "annual", "north", "x"]]}',
        (
            b'{"instances": [[1, 2.5, 3, "annual", "north", "x"]],'
            b' "params": {"method": "predict_proba"}}'
        ),
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_on_the_loop_every_answer_is_the_pools(served: ServedModel, body: bytes) -> None:
    from mlgate.serve.app import _score_on_loop

    assert _score_on_loop(served, body, "application/json") == _score(
        served, body, "application/json"
    )


def test_a_multiclass_final_estimator_is_called_itself_on_the_plans_features() -> None:
    frame = _frame(300, 9)[[*NUMERIC, *CATEGORICAL]]
    pipeline = Pipeline(
        [
            ("features", ColumnTransformer([("numeric", StandardScaler(), NUMERIC),
                                            ("categorical", OneHotEncoder(), CATEGORICAL)])),
            ("classifier", LogisticRegression(max_iter=500)),
        ]
    ).fit(frame, frame["contract"])  # fmt: skip
    served = ServedModel(_served().info, pipeline)
    assert served.fast is not None
    assert served.fast.final is pipeline[-1]  # three classes: not the two-class formulas
    arrays = served.convert(_columns(_frame(50, 10)))
    for method in ("predict", "predict_proba"):
        mine = served.fast.predict(arrays, method)
        assert mine is not None
        assert np.array_equal(mine, getattr(pipeline, method)(_frame(50, 10)))
