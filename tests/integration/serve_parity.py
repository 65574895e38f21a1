"""Request shapes for the scoring protocol, and the status MLflow's scoring server gives each.

The shapes follow MLflow's own scoring-server tests (tests/pyfunc/test_scoring_server.py: every
input format, charset and unknown content-type parameters, malformed JSON, non-object JSON,
wrong orientation, invalid and incompatible frames, empty CSV, unsupported content types) plus
shapes of our own (types, nulls, batches, Parquet, MLflow 1.x bodies, methods on each endpoint,
nesting, encodings). ``mlflow`` is the status ``mlflow models serve`` answers for the starter
model saved by ``mlflow.sklearn.save_model`` with its inferred signature; ``mlgate`` is set only
where mlgate deliberately answers otherwise, with the reason's key in docs/serving.md.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "age", "contract", "plan",
            "region"]  # fmt: skip
JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"


@dataclass(frozen=True)
class Shape:
    id: str
    method: str
    path: str
    content_type: str | None
    body: bytes
    mlflow: int
    mlgate: int | None = None  # a deliberate difference (docs/serving.md names the reason)
    reason: str = ""

    @property
    def expected_mlgate(self) -> int:
        return self.mlflow if self.mlgate is None else self.mlgate


def _rows(frame: pd.DataFrame, n: int = 3) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(frame[FEATURES].head(n).to_json(orient="records"))
    return rows


def shapes(frame: pd.DataFrame) -> list[Shape]:  # noqa: PLR0915 - one line per shape
    """Every shape, built from the evaluation frame (features and target columns)."""
    rows = _rows(frame)
    row = rows[0]
    split: dict[str, list[Any]] = {
        "columns": FEATURES,
        "data": [[r[c] for c in FEATURES] for r in rows],
    }
    columnar = {c: [r[c] for r in rows] for c in FEATURES}
    big = json.loads(frame[FEATURES].head(100).to_json(orient="split", index=False))
    csv_text = frame[FEATURES].head(3).to_csv(index=False)
    shuffled = frame[FEATURES[::-1]].head(3).to_csv(index=False)
    parquet = io.BytesIO()
    frame[FEATURES].head(3).to_parquet(parquet)
    parquet_missing = io.BytesIO()
    frame[FEATURES[1:]].head(3).to_parquet(parquet_missing)

    def j(value: Any) -> bytes:
        return json.dumps(value).encode()

    def one(**change: Any) -> bytes:
        return j({"dataframe_records": [{**row, **change}]})

    out: list[Shape] = []

    def add(id_: str, body: bytes, mlflow: int, content_type: str | None = JSON,
            method: str = "POST", path: str = "/invocations", mlgate: int | None = None,
            reason: str = "") -> None:  # fmt: skip
        out.append(Shape(id_, method, path, content_type, body, mlflow, mlgate, reason))

    # The four input formats and their variants (MLflow's "successfully evaluates" tests).
    add("split", j({"dataframe_split": split}), 200)
    add("split-with-index", j({"dataframe_split": {**split, "index": [0, 1, 2]}}), 200)
    add("split-charset", j({"dataframe_split": split}), 200, JSON + "; charset=UTF-8")
    add(
        "split-columns-reordered",
        j(
            {
                "dataframe_split": {
                    "columns": FEATURES[::-1],
                    "data": [[r[c] for c in FEATURES[::-1]] for r in rows],
                }
            }
        ),
        200,
    )
    add(
        "split-extra-column",
        j(
            {
                "dataframe_split": {
                    "columns": [*FEATURES, "gender"],
                    "data": [[*d, "x"] for d in split["data"]],
                }
            }
        ),
        200,
    )
    add("split-100-rows", j({"dataframe_split": big}), 200)
    add("records", j({"dataframe_records": rows}), 200)
    add("records-charset", j({"dataframe_records": rows}), 200, JSON + "; charset=utf-8")
    add("records-extra-column", one(gender="female"), 200)
    add("records-extra-top-level-key", j({"dataframe_records": rows, "note": 1}), 200)
    add("instances-records", j({"instances": rows}), 200)
    add("instances-columnar", j({"instances": columnar}), 200)
    add("inputs-columnar", j({"inputs": columnar}), 200)
    add("inputs-records", j({"inputs": rows}), 200)
    add("params-unknown-ignored", j({"dataframe_records": rows, "params": {"x": 1}}), 200)
    add(
        "params-method", j({"dataframe_records": rows, "params": {"method": "predict_proba"}}), 200
    )  # same status; mlgate answers probabilities (docs/serving.md: params-method)
    add("csv", csv_text.encode(), 200, CSV)
    add("csv-charset", csv_text.encode(), 200, CSV + "; charset=utf-8")
    add("csv-columns-shuffled", shuffled.encode(), 200, CSV)
    add("parquet", parquet.getvalue(), 200, PARQUET)
    # Values: what the signature's types allow.
    add("int-for-float", one(monthly_charges=84), 200)
    add("float-for-int", one(tenure_months=42.0), 200)
    add("string-for-int", one(tenure_months="42"), 200)
    add("word-for-int", one(tenure_months="many"), 400)
    add("word-for-float", one(monthly_charges="lots"), 400)
    add("number-for-string", one(contract=3), 200, mlgate=400, reason="strict-types")
    add("bool-for-int", one(age=True), 200, mlgate=400, reason="strict-types")
    add("null-float", one(monthly_charges=None), 400)
    add("null-string", one(plan=None), 200)
    add("unseen-category", one(plan="platinum"), 200)
    add("int-beyond-int64", one(age=2**70), 400)
    add(
        "nan-literal",
        one(monthly_charges=0).replace(b'"monthly_charges": 0', b'"monthly_charges": NaN'),
        400,
    )
    # Missing or mismatched columns.
    add("records-missing-column", j({"dataframe_records": [{k: v for k, v in row.items()
                                                            if k != "age"}]}), 400)  # fmt: skip
    add(
        "split-missing-column",
        j({"dataframe_split": {"columns": FEATURES[1:], "data": [d[1:] for d in split["data"]]}}),
        400,
    )
    add("split-row-too-short", j({"dataframe_split": {"columns": FEATURES, "data": [[1, 2]]}}), 400)
    add("split-no-columns", j({"dataframe_split": {"data": split["data"]}}), 400)
    add(
        "split-invalid-frame",
        j({"dataframe_split": {"index": [1, 2], "data": [[1], [2], [3]]}}),
        400,
    )
    add(
        "incompatible-frame",
        j({"dataframe_split": {"columns": [0], "data": [[i] for i in range(10)]}}),
        400,
    )
    add("records-empty-list", j({"dataframe_records": []}), 400)
    add("instances-empty-list", j({"instances": []}), 400)
    add(
        "instances-positional",
        j({"instances": split["data"]}),
        400,
        mlgate=200,
        reason="positional-rows",
    )
    add(
        "inputs-positional", j({"inputs": split["data"]}), 400, mlgate=200, reason="positional-rows"
    )
    add("inputs-scalars", j({"inputs": row}), 200)
    add("csv-missing-column", frame[FEATURES[1:]].head(2).to_csv(index=False).encode(), 400, CSV)
    add("parquet-missing-column", parquet_missing.getvalue(), 400, PARQUET)
    # The request's form (MLflow's "responds to ... with error code" tests).
    add("malformed-json", b"this is,,,, not valid json", 400)
    add("json-number", j(1), 400)
    add("json-string", j("1"), 400)
    add("json-list", j([1]), 400)
    add("not-a-serialized-dataframe", j({"not": "a serialized dataframe"}), 400)
    add("two-formats", j({"dataframe_records": [], "dataframe_split": {"data": []}}), 400)
    add("records-given-split", j({"dataframe_records": split}), 400)
    add("split-given-records", j({"dataframe_split": rows}), 400)
    add("empty-body-json", b"", 400)
    add(
        "params-not-object",
        j({"dataframe_records": rows, "params": 3}),
        200,
        mlgate=400,
        reason="params-checked",
    )
    add("deeply-nested", b"[" * 100_000 + b"]" * 100_000, 500, mlgate=400, reason="deep-nesting")
    add(
        "deeply-nested-object",
        b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        500,
        mlgate=400,
        reason="deep-nesting",
    )
    add("json-not-utf8", b'{"dataframe_records": [{"plan": "\xff"}]}', 400)
    add("empty-csv", b"", 400, CSV)
    add("csv-header-only", (",".join(FEATURES) + "\n").encode(), 400, CSV)
    add("csv-not-utf8", b"plan\n\xff\n", 400, CSV)
    add("parquet-garbage", b"PAR1 not parquet", 400, PARQUET)
    # Content types (MLflow's "unsupported content type" tests).
    add(
        "unsupported-content-type",
        j({"dataframe_split": split}),
        415,
        "not_a_supported_content_type",
    )
    add(
        "unknown-content-parameter",
        j({"dataframe_split": split}),
        415,
        JSON + "; something=something",
    )
    add("charset-latin-1", j({"dataframe_split": split}), 415, JSON + "; charset=latin-1")
    add("application-xml", b"<x/>", 415, "application/xml")
    add("text-plain", j({"dataframe_split": split}), 415, "text/plain")
    add("csv-with-format", csv_text.encode(), 415, CSV + "; format=pandas-split")
    add(
        "json-uppercase-media-type",
        j({"dataframe_split": split}),
        415,
        "APPLICATION/JSON",
        mlgate=200,
        reason="media-type-case",
    )
    add(
        "no-content-type",
        j({"dataframe_split": split}),
        500,
        None,
        mlgate=200,
        reason="no-content-type",
    )
    add(
        "mlflow-1x-pandas-split",
        j(split),
        415,
        JSON + "; format=pandas-split",
        mlgate=200,
        reason="mlflow-1x",
    )
    add(
        "mlflow-1x-pandas-records-bare-list",
        j(rows),
        415,
        JSON + "; format=pandas-records",
        mlgate=200,
        reason="mlflow-1x",
    )
    add(
        "mlflow-1x-json-numpy-split",
        j(split),
        415,
        "application/json-numpy-split",
        mlgate=200,
        reason="mlflow-1x",
    )
    # Endpoints and methods.
    for path in ("/ping", "/health"):
        add(f"get-{path[1:]}", b"", 200, None, "GET", path)
        add(f"head-{path[1:]}", b"", 405, None, "HEAD", path)
        add(f"post-{path[1:]}", b"", 405, None, "POST", path)
        add(f"options-{path[1:]}", b"", 405, None, "OPTIONS", path)
    add("get-version", b"", 200, None, "GET", "/version")
    add("post-version", b"", 405, None, "POST", "/version")
    add("get-invocations", b"", 405, None, "GET", "/invocations")
    add("put-invocations", j({"dataframe_split": split}), 405, JSON, "PUT", "/invocations")
    add("delete-invocations", b"", 405, None, "DELETE", "/invocations")
    add("unknown-path", b"", 404, None, "GET", "/nope")
    add("get-info", b"", 404, None, "GET", "/info", mlgate=200, reason="extra-endpoints")
    add("get-metrics", b"", 404, None, "GET", "/metrics", mlgate=200, reason="extra-endpoints")
    return out


def answer(base_url: str, shape: Shape, post: Callable[..., Any]) -> int:
    """The status ``base_url`` answers ``shape`` with (``post`` is ``requests.request``)."""
    headers = {"Content-Type": shape.content_type} if shape.content_type is not None else {}
    response = post(shape.method, base_url + shape.path, data=shape.body, headers=headers,
                    timeout=60)  # fmt: skip
    return int(response.status_code)
