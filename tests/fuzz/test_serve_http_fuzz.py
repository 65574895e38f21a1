"""Fuzzing the scoring server's HTTP surface in-process (the ASGI app with a real scikit-learn
pipeline): any method, path, headers and body get a 2xx or a 4xx naming the problem, never a
5xx and never an exception out of the app."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from mlgate.serve.app import Message, ScoringApp, ServeSettings
from mlgate.serve.model import ModelInfo, ServedModel
from tests.fuzz.conftest import tried
from tests.fuzz.strategies import json_values

COLUMNS = ["age", "income", "plan", "active"]
TYPES = ["integer", "float", "string", "boolean"]


def _served() -> ServedModel:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, 100),
            "income": rng.normal(1000, 200, 100),
            "plan": rng.choice(["basic", "pro"], 100),
            "active": rng.choice([True, False], 100),
        }
    )
    # handle_unknown="error" (scikit-learn's default): an unseen category makes predict raise.
    features = ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough")
    model = Pipeline([("f", features), ("clf", LogisticRegression(max_iter=300))])
    model.fit(frame, (frame["income"] > 1000).astype(int))
    signature = {"inputs": [{"name": n, "type": t} for n, t in zip(COLUMNS, TYPES, strict=True)]}
    info = ModelInfo.from_dict(
        {
            "name": "fuzz",
            "model_file": "m.skops",
            "format": "skops",
            "signature": signature,
            "task": "binary-classification",
        }
    )
    return ServedModel(info, model)


APP = ScoringApp(ServeSettings(model_dir=None, max_request_bytes=2048, access_log=False), _served())  # type: ignore[arg-type]


def call(method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> int:
    tried("scoring request")
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    queue = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ] or [{"type": "http.request", "body": b""}]
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(APP(scope, receive, send))
    start = sent[0]
    status = int(start["status"])
    assert status < 500, (status, sent[-1].get("body", b"")[:300])
    if method == "HEAD":
        assert sent[-1]["body"] == b""  # a HEAD answer has headers only
    elif status >= 400:
        message = json.loads(sent[-1]["body"])["message"]
        assert message
    return status


cells = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=6),
    st.sampled_from(["basic", "pro", "enterprise", "", "NaN", "1e400", "2024-01-01"]),
)  # fmt: skip
rows = st.lists(st.fixed_dictionaries(dict.fromkeys(COLUMNS, cells)), min_size=1, max_size=4)


def _split(r: list[dict[str, Any]]) -> dict[str, Any]:
    return {"dataframe_split": {"columns": COLUMNS, "data": [list(x.values()) for x in r]}}


payloads = st.one_of(
    rows.map(lambda r: {"dataframe_records": r}),
    rows.map(_split),
    rows.map(lambda r: {"instances": r}),
    rows.map(lambda r: {"inputs": r, "params": {"method": "predict_proba"}}),
    json_values,
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/csv",
        "application/json; format=pandas-split",
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
    ]
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(payloads, content_types)
def test_any_json_payload(payload: Any, content_type: str) -> None:
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    call("POST", "/invocations", headers, [body])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), content_types, st.integers(1, 4))
def test_any_bytes_in_any_chunks(body: bytes, content_type: str, pieces: int) -> None:
    size = max(1, len(body) // pieces)
    chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    call("POST", "/invocations", [(b"content-type", content_type.encode())], chunks)


@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW"]),
    st.sampled_from(["/invocations", "/ping", "/health", "/version", "/info", "/metrics", "/", "/x",
                     "/invocations/", "//invocations", "/%00"]),
    st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=20)), max_size=4),
)  # fmt: skip
def test_any_method_path_and_headers(method: str, path: str, headers: list) -> None:
    call(method, path, headers, [b'{"inputs": []}'])


typed_rows = st.lists(
    st.fixed_dictionaries(
        {
            "age": st.integers(-(10**6), 10**6),
            "income": st.floats(allow_nan=False, allow_infinity=False, width=32),
            "plan": st.none() | st.sampled_from(["basic", "pro"]) | st.text(max_size=5),
            "active": st.booleans(),
        }
    ),
    min_size=1,
    max_size=5,
)


@given(typed_rows, st.sampled_from(["predict", "predict_proba"]))
def test_well_typed_rows_the_model_may_refuse(rows: list[dict[str, Any]], method: str) -> None:
    """Unseen categories and missing values pass the signature but make predict raise: 400."""
    body = json.dumps({"dataframe_records": rows, "params": {"method": method}}).encode()
    call("POST", "/invocations", [(b"content-type", b"application/json")], [body])


@given(st.sampled_from([b"abc", b"-1", b"", b"1e3", b" 12 ", b"99999999999999999999999", b"0x10"]))
def test_odd_content_length_headers(value: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", value)]
    call("POST", "/invocations", headers, [b'{"instances": []}'])


@given(st.text(alphabet='ab,"\n\r;0.5-e', max_size=200))
def test_any_csv(text: str) -> None:
    body = ("age,income,plan,active\n" + text).encode()
    call("POST", "/invocations", [(b"content-type", b"text/csv")], [body])
