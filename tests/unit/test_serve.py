"""The scoring server's ASGI app, request formats and validation, called in-process."""

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
from sklearn.preprocessing import OneHotEncoder

import mlgate
from mlgate.serve.app import Message, ScoringApp, ServeSettings
from mlgate.serve.model import InputError, ModelInfo, ServedModel
from mlgate.serve.payload import UnsupportedMediaType, parse
from tests.unit.asgi import request

COLUMNS = ["age", "income", "plan", "active"]
ROW = {"age": 40, "income": 1200.5, "plan": "basic", "active": True}


@pytest.fixture(scope="module")
def served() -> ServedModel:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, 200),
            "income": rng.normal(1000, 200, 200),
            "plan": rng.choice(["basic", "pro"], 200),
            "active": rng.choice([True, False], 200),
        }
    )
    target = (frame["income"] > 1000).astype(int)
    model = Pipeline(
        [
            (
                "features",
                ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough"),
            ),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    ).fit(frame, target)
    info = ModelInfo.from_dict(
        {
            "name": "toy",
            "model_file": "model.skops",
            "format": "skops",
            "version": "v1.2.3",
            "commit": "abc",
            "task": "binary-classification",
            "signature": {
                "inputs": [
                    {"name": "age", "type": "integer"},
                    {"name": "income", "type": "float"},
                    {"name": "plan", "type": "string"},
                    {"name": "active", "type": "boolean"},
                ]
            },
        }
    )
    return ServedModel(info, model)


def call(
    app: ScoringApp, method: str, path: str, body: bytes = b"", content_type: str = ""
) -> tuple[int, dict[str, str], bytes]:
    headers = [(b"content-type", content_type.encode())] if content_type else []
    headers.append((b"content-length", str(len(body)).encode()))
    return asyncio.run(request(app, method, path, body, headers))


def post_json(app: ScoringApp, payload: Any) -> tuple[int, Any]:
    status, _, body = call(app, "POST", "/invocations", json.dumps(payload).encode(),
                           "application/json")  # fmt: skip
    return status, json.loads(body)


@pytest.fixture
def app(served: ServedModel, tmp_path: Any) -> ScoringApp:
    return ScoringApp(ServeSettings(tmp_path, max_request_bytes=4096, access_log=False), served)


def expected(served: ServedModel, rows: list[dict[str, Any]], method: str = "predict") -> Any:
    frame = pd.DataFrame(rows)[COLUMNS]
    return getattr(served.estimator, method)(frame).tolist()


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": COLUMNS, "data": [[40, 1200.5, "basic", True]]}},
        {"dataframe_records": [ROW]},
        {"instances": [ROW]},
        {"instances": [[40, 1200.5, "basic", True]]},
        {"inputs": {k: [v] for k, v in ROW.items()}},
        {"inputs": [ROW]},
    ],
    ids=["split", "records", "instances-rows", "instances-lists", "inputs-columns", "inputs-rows"],
)
def test_every_mlflow_format_gives_the_in_process_prediction(
    app: ScoringApp, served: ServedModel, payload: dict[str, Any]
) -> None:
    status, body = post_json(app, payload)
    assert status == 200, body
    assert body == {"predictions": expected(served, [ROW])}


def test_params_method_predict_proba(app: ScoringApp, served: ServedModel) -> None:
    status, body = post_json(app, {"dataframe_records": [ROW, {**ROW, "income": 10.0}],
                                   "params": {"method": "predict_proba"}})  # fmt: skip
    assert status == 200
    assert body["predictions"] == expected(served, [ROW, {**ROW, "income": 10.0}], "predict_proba")


def test_csv_body(app: ScoringApp, served: ServedModel) -> None:
    csv = "plan,age,income,active\nbasic,40,1200.5,true\npro,22,800,false\n"
    status, _, body = call(app, "POST", "/invocations", csv.encode(), "text/csv")
    assert status == 200
    rows = [ROW, {"age": 22, "income": 800.0, "plan": "pro", "active": False}]
    assert json.loads(body)["predictions"] == expected(served, rows)


def test_pandas_split_content_type_of_mlflow_1(app: ScoringApp) -> None:
    body = json.dumps({"columns": COLUMNS, "data": [[40, 1200.5, "basic", True]]}).encode()
    status, _, _ = call(app, "POST", "/invocations", body, "application/json; format=pandas-split")
    assert status == 200


# MLflow's error codes: a missing column or no rows is INVALID_PARAMETER_VALUE; a body of the
# wrong form or a value the column's type cannot take is BAD_REQUEST.
SCHEMA, FORM = "INVALID_PARAMETER_VALUE", "BAD_REQUEST"


@pytest.mark.parametrize(
    ("payload", "message", "code"),
    [
        ({"dataframe_records": [{**ROW, "age": "old"}]}, "column 'age' expects integer", FORM),
        ({"dataframe_records": [{**ROW, "age": 4.5}]}, "column 'age' expects integer", FORM),
        ({"dataframe_records": [{**ROW, "income": "lots"}]}, "column 'income' expects float",
         FORM),
        ({"dataframe_records": [{**ROW, "plan": 3}]}, "column 'plan' expects string", FORM),
        ({"dataframe_records": [{**ROW, "active": "maybe"}]}, "column 'active' expects boolean",
         FORM),
        (
            {"dataframe_records": [{k: v for k, v in ROW.items() if k != "plan"} | {"plna": "x"}]},
            "missing feature column(s) 'plan' (got 'plna'; did you mean 'plan'?)",
            SCHEMA,
        ),
        ({"dataframe_split": {"columns": ["age"], "data": [[1]]}}, "missing feature column(s)",
         SCHEMA),
        (
            {"dataframe_split": {"columns": COLUMNS, "data": [[1, 2]]}},
            "data[0] must be a list of 4",
            FORM,
        ),
        ({"instances": [[1, 2]]}, "instances[0] must list 4 values in signature order", SCHEMA),
        ({"records": []}, "request must have exactly one of", FORM),
        ({"dataframe_records": [ROW], "instances": [ROW]}, "request must have exactly one of",
         FORM),
        ({"dataframe_records": {"age": [1]}}, "dataframe_records must be a list", FORM),
        ({"dataframe_split": [ROW]}, "dataframe_split must be", FORM),
        ({"dataframe_split": {"data": [[1]]}}, "dataframe_split has no columns", SCHEMA),
        ({"dataframe_records": []}, "dataframe_records has no rows", SCHEMA),
        ({"instances": []}, "instances has no rows", SCHEMA),
        ({"dataframe_records": [ROW], "params": {"method": "explode"}}, "params.method", SCHEMA),
        (
            {"inputs": {"age": [1, 2], "income": [1.0], "plan": ["a"], "active": [True]}},
            "columns have different lengths",
            SCHEMA,
        ),
    ],
)  # fmt: skip
def test_invalid_input_is_400_naming_the_problem(
    app: ScoringApp, payload: dict[str, Any], message: str, code: str
) -> None:
    status, body = post_json(app, payload)
    assert status == 400
    assert message in body["message"]
    assert body["error_code"] == code


def test_not_json_is_400_and_unknown_media_is_415(app: ScoringApp) -> None:
    assert call(app, "POST", "/invocations", b"{nope", "application/json")[0] == 400
    assert call(app, "POST", "/invocations", b"x", "application/xml")[0] == 415


def test_request_size_limit_is_413(app: ScoringApp) -> None:
    big = json.dumps({"dataframe_records": [ROW] * 200}).encode()
    status, _, body = call(app, "POST", "/invocations", big, "application/json")
    assert status == 413
    assert "4096 bytes" in json.loads(body)["message"]


def test_health_version_metrics_and_unknown_paths(app: ScoringApp) -> None:
    assert call(app, "GET", "/ping")[0] == 200
    assert call(app, "GET", "/health")[0] == 200
    status, headers, body = call(app, "GET", "/version")
    assert (status, body.decode()) == (200, mlgate.__version__)  # bare, as MLflow's client reads
    assert headers["content-type"].startswith("text/plain")
    status, _, body = call(app, "GET", "/info")
    assert status == 200
    assert json.loads(body)["model"] == "toy"
    assert json.loads(body)["version"] == "v1.2.3"
    assert call(app, "GET", "/nope")[0] == 404
    assert call(app, "GET", "/invocations")[0] == 405
    post_json(app, {"dataframe_records": [ROW, ROW]})
    post_json(app, {"dataframe_records": [{"x": 1}]})
    status, headers, text = call(app, "GET", "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    metrics = text.decode()
    assert 'mlgate_requests_total{endpoint="/invocations",status="200"} 1' in metrics
    assert 'mlgate_requests_total{endpoint="/invocations",status="400"} 1' in metrics
    assert 'mlgate_requests_total{endpoint="other",status="404"} 1' in metrics
    assert "mlgate_prediction_rows_total 2" in metrics
    assert 'mlgate_model_info{commit="abc",name="toy",sha256="",version="v1.2.3"} 1' in metrics
    label = expected(app.model, [ROW])[0]  # type: ignore[arg-type]
    assert f'mlgate_predicted_label_total{{label="{label}"}} 2' in metrics
    assert 'mlgate_request_duration_seconds_count{endpoint="/invocations"} 3' in metrics


def test_not_ready_until_loaded(tmp_path: Any) -> None:
    app = ScoringApp(ServeSettings(tmp_path))
    assert call(app, "GET", "/health")[0] == 503
    assert call(app, "POST", "/invocations", b"{}", "application/json")[0] == 503


def test_lifespan_reports_a_model_that_fails_to_load(tmp_path: Any) -> None:
    app = ScoringApp(ServeSettings(tmp_path))
    messages = [{"type": "lifespan.startup"}]
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "model.json" in sent[0]["message"]


def test_parse_rejects_unsupported_media(served: ServedModel) -> None:
    with pytest.raises(UnsupportedMediaType):
        parse(served, b"", "image/png")
    with pytest.raises(InputError, match="CSV body has a header but no rows"):
        parse(served, b"age,income,plan,active\n", "text/csv")


def test_datetime_and_nulls(served: ServedModel) -> None:
    from mlgate.serve.model import _CONVERTERS

    stamps = _CONVERTERS["datetime"]("when", ["2024-01-02", "2024-03-04T05:06:07"])
    assert str(stamps[0].date()) == "2024-01-02"
    floats = _CONVERTERS["float"]("x", [None, "", 1, "2.5"])
    assert np.isnan(floats[0])
    assert np.isnan(floats[1])
    assert floats[3] == 2.5
    with pytest.raises(InputError, match="column 'when' expects datetime"):
        _CONVERTERS["datetime"]("when", [{"a": 1}])


class _Gate:
    """An estimator whose predict waits until the test opens the gate (no sleeping)."""

    def __init__(self) -> None:
        import threading

        self.entered = threading.Event()
        self.release = threading.Event()

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.entered.set()
        assert self.release.wait(30)
        return np.zeros(len(frame))


async def _acall(
    app: ScoringApp, method: str, path: str, body: bytes = b"", headers: Any = ()
) -> tuple[int, dict[str, str], bytes]:
    return await request(
        app, method, path, body, [(b"content-type", b"application/json"), *headers]
    )


def test_predictions_run_off_the_loop_and_a_full_queue_is_503_with_retry_after(
    served: ServedModel, tmp_path: Any
) -> None:
    gate = _Gate()
    model = ServedModel(served.info, gate)
    settings = ServeSettings(tmp_path, access_log=False, threads=1, max_pending=1)
    app = ScoringApp(settings, model)
    body = json.dumps({"dataframe_records": [ROW]}).encode()

    async def scenario() -> None:
        first = asyncio.ensure_future(_acall(app, "POST", "/invocations", body))
        await asyncio.get_running_loop().run_in_executor(None, gate.entered.wait, 30)
        # The model is busy in the pool; the loop still answers at once.
        assert (await _acall(app, "GET", "/health"))[0] == 200
        status, headers, refused = await _acall(app, "POST", "/invocations", body)
        assert status == 503
        assert headers["retry-after"] == "1"
        assert json.loads(refused)["error_code"] == "TEMPORARILY_UNAVAILABLE"
        gate.release.set()
        status, _, answer = await first
        assert (status, json.loads(answer)) == (200, {"predictions": [0.0]})
        # Capacity is back once the first answer is out.
        assert (await _acall(app, "POST", "/invocations", body))[0] == 200
        metrics = (await _acall(app, "GET", "/metrics"))[2].decode()
        assert "mlgate_rejected_requests_total 1" in metrics

    asyncio.run(scenario())
    app.close()


def test_every_answer_carries_a_request_id(app: ScoringApp) -> None:
    async def scenario() -> None:
        _, given, _ = await _acall(app, "GET", "/ping", headers=[(b"x-request-id", b"abc-1")])
        assert given["x-request-id"] == "abc-1"
        _, made, _ = await _acall(app, "POST", "/invocations", b"{")
        _, bad, _ = await _acall(app, "GET", "/ping", headers=[(b"x-request-id", b"a b\n")])
        assert len(made["x-request-id"]) == 32
        assert bad["x-request-id"] not in ("a b\n", made["x-request-id"])

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json; format=pandas-split",
         {"columns": COLUMNS, "data": [[40, 1200.5, "basic", True]]}),
        ("application/json; format=pandas-records", [ROW]),
        ("application/json-numpy-split",
         {"columns": COLUMNS, "data": [[40, 1200.5, "basic", True]]}),
        ("application/json; charset=UTF-8", {"dataframe_records": [ROW]}),
    ],
    ids=["1.x-split", "1.x-records-bare-list", "json-numpy-split", "charset"],
)  # fmt: skip
def test_mlflow_1x_bodies(
    app: ScoringApp, served: ServedModel, content_type: str, body: Any
) -> None:
    status, _, answer = call(app, "POST", "/invocations", json.dumps(body).encode(), content_type)
    assert status == 200, answer
    assert json.loads(answer) == {"predictions": expected(served, [ROW])}


def test_parquet_body(app: ScoringApp, served: ServedModel) -> None:
    import io

    rows = [ROW, {**ROW, "income": 10.0, "plan": "pro"}]
    buffer = io.BytesIO()
    pd.DataFrame(rows)[COLUMNS[::-1]].to_parquet(buffer)
    app.settings = ServeSettings(app.settings.model_dir, access_log=False)  # no 4 KiB limit
    status, _, answer = call(app, "POST", "/invocations", buffer.getvalue(),
                             "application/x-parquet")  # fmt: skip
    assert status == 200, answer
    assert json.loads(answer)["predictions"] == expected(served, rows)
    status, _, answer = call(app, "POST", "/invocations", b"PAR1nope", "application/x-parquet")
    assert (status, json.loads(answer)["error_code"]) == (400, "BAD_REQUEST")


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status"),
    [
        ("HEAD", "/ping", b"", "", 405),
        ("POST", "/ping", b"", "", 405),
        ("POST", "/health", b"", "", 405),
        ("POST", "/version", b"", "", 405),
        ("POST", "/invocations", b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        ("POST", "/invocations", b"{}", "application/json; something=else", 415),
        ("POST", "/invocations", b"{}", "application/json; charset=latin-1", 415),
        ("POST", "/invocations", b"{}", "text/csv; format=pandas-split", 415),
        ("POST", "/invocations", b"[1]", "application/json", 400),
    ],
)
def test_protocol_edges_answer_as_mlflow(
    app: ScoringApp, method: str, path: str, body: bytes, content_type: str, status: int
) -> None:
    app.settings = ServeSettings(app.settings.model_dir, access_log=False)
    got, _, answer = call(app, method, path, body, content_type)
    assert got == status, answer


class _Counting:
    """The real estimator behind a gate that holds the first call; counts calls and rows."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        self.gate = _Gate()
        self.calls: list[tuple[str, int]] = []

    def _call(self, method: str, frame: pd.DataFrame) -> Any:
        if not self.calls:
            self.gate.entered.set()
            assert self.gate.release.wait(30)
        self.calls.append((method, len(frame)))
        return getattr(self.estimator, method)(frame)

    def predict(self, frame: pd.DataFrame) -> Any:
        return self._call("predict", frame)

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        return self._call("predict_proba", frame)


def test_requests_queued_while_the_pool_is_busy_are_scored_in_one_call_each_answer_its_own(
    served: ServedModel, tmp_path: Any
) -> None:
    counting = _Counting(served.estimator)
    app = ScoringApp(
        ServeSettings(tmp_path, access_log=False, threads=1), ServedModel(served.info, counting)
    )
    other = {**ROW, "age": 70, "plan": "pro"}
    payloads = [
        {"dataframe_records": [ROW]},
        {"dataframe_records": [other, ROW]},
        {"dataframe_records": [{**ROW, "age": "old"}]},  # refused on its own
        {"dataframe_records": [other], "params": {"method": "predict_proba"}},
        {"dataframe_records": [ROW, other, other]},
    ]
    alone = [post_json(ScoringApp(ServeSettings(tmp_path, access_log=False), served), p)
             for p in payloads]  # fmt: skip

    async def scenario() -> list[tuple[int, Any]]:
        first = asyncio.ensure_future(
            _acall(app, "POST", "/invocations", b'{"inputs": [%s]}' % json.dumps(ROW).encode())
        )
        await asyncio.get_running_loop().run_in_executor(None, counting.gate.entered.wait, 30)
        queued = [
            asyncio.ensure_future(_acall(app, "POST", "/invocations", json.dumps(p).encode()))
            for p in payloads
        ]
        await asyncio.sleep(0)  # let every request reach the queue (no time passes)
        counting.gate.release.set()
        assert (await first)[0] == 200
        return [(status, json.loads(body)) for status, _, body in await asyncio.gather(*queued)]

    answers = asyncio.run(scenario())
    app.close()
    assert answers == alone
    assert answers[2][0] == 400
    # The first call held the pool; the queued predicts went in one call of 6 rows, the
    # predict_proba request in its own; the refused one never reached the model.
    assert sorted(counting.calls[1:]) == [("predict", 6), ("predict_proba", 1)]


def test_a_batch_the_model_fails_on_is_scored_request_by_request(served: ServedModel) -> None:
    from mlgate.serve.app import _score, _score_batch

    class FailsOnBatches:
        def predict(self, frame: pd.DataFrame) -> Any:
            if len(frame) > 1:
                raise ValueError("one row at a time")
            return served.estimator.predict(frame)

    model = ServedModel(served.info, FailsOnBatches())
    work = [(json.dumps({"dataframe_records": [row]}).encode(), "application/json")
            for row in (ROW, {**ROW, "plan": "pro"})]  # fmt: skip
    assert _score_batch(model, work) == [_score(model, *item) for item in work]
    assert [scored.status for scored in _score_batch(model, work)] == [200, 200]


def test_max_batch_reaches_the_workers_through_the_environment(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ServeSettings(tmp_path, max_batch=1).batch_limit == 1
    assert ServeSettings(tmp_path).batch_limit == 32
    for name, value in ServeSettings(tmp_path, max_batch=5).to_env().items():
        monkeypatch.setenv(name, value)
    assert ServeSettings.from_env().batch_limit == 5


class _Writes:
    """A text stream that counts its write calls."""

    def __init__(self) -> None:
        self.text = ""
        self.writes = 0

    def write(self, text: str) -> None:
        self.text += text
        self.writes += 1

    def flush(self) -> None:
        pass


def test_access_log_lines_are_the_json_handlers_written_once_per_turn_of_the_loop(
    served: ServedModel, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from mlgate.serve.app import JsonFormatter

    stream = _Writes()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    parent = logging.getLogger("mlgate")
    monkeypatch.setattr(parent, "handlers", [handler])
    monkeypatch.setattr(parent, "propagate", False)
    serve_logger = logging.getLogger("mlgate.serve")
    levels = parent.level, serve_logger.level
    parent.setLevel(logging.INFO)
    serve_logger.setLevel(logging.NOTSET)
    try:
        _log_lines_and_writes(served, tmp_path, stream, handler)
    finally:
        parent.setLevel(levels[0])
        serve_logger.setLevel(levels[1])


def _log_lines_and_writes(
    served: ServedModel, tmp_path: Any, stream: _Writes, handler: Any
) -> None:
    app = ScoringApp(ServeSettings(tmp_path), served)
    body = json.dumps({"dataframe_records": [ROW]}).encode()

    async def scenario() -> None:
        await _acall(app, "POST", "/invocations", body, [(b"x-request-id", b"one")])
        await _acall(app, "GET", "/nowhere")
        await asyncio.sleep(0)
        writes = stream.writes
        for n in range(3):  # three answers in one turn: one write
            app.access.write({"method": "GET", "path": "/ping", "status": 200, "n": n})
        await asyncio.sleep(0)
        assert stream.writes == writes + 1

    asyncio.run(scenario())
    app.close()
    lines = [json.loads(line) for line in stream.text.splitlines()]
    first = lines[0]
    assert list(first) == ["ts", "level", "logger", "msg", "method", "path", "status", "ms",
                           "bytes", "request_id"]  # fmt: skip
    assert (first["level"], first["logger"], first["msg"]) == ("info", "mlgate.serve", "request")
    assert (first["path"], first["status"], first["request_id"]) == ("/invocations", 200, "one")
    assert lines[1]["status"] == 404
    assert [line.get("n") for line in lines[2:]] == [0, 1, 2]
    # Another logging setup (here a filter on the handler): each line through logging.
    handler.addFilter(lambda record: record.getMessage() == "request")
    other = ScoringApp(ServeSettings(tmp_path), served)
    before = stream.writes
    asyncio.run(_acall(other, "GET", "/ping"))
    assert stream.writes == before + 1
    assert json.loads(stream.text.splitlines()[-1])["path"] == "/ping"
