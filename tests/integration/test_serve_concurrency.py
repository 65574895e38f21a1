"""50 concurrent clients against a real ``mlgate serve`` process (uvicorn, one worker, so the
metrics are one count): valid requests of every format and size, requests the server must
refuse, interleaved. Nothing is lost (the server's own request counter matches what was
sent), every answer is a 200 with the in-process predictions or a 400 naming the problem, and
no answer is a 5xx."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from mlgate import formats
from tests.integration.serve_support import running_server, served_model_dir

CLIENTS = 50
REQUESTS_EACH = 8


@pytest.fixture
def served(starter: Path, tmp_path: Path) -> Iterator[tuple[str, pd.DataFrame, Any]]:
    folder = served_model_dir(starter, tmp_path / "served")
    frame = pd.read_csv(starter / "models/churn/data/eval.csv")
    features = [c for c in frame.columns if c not in ("churned", "gender")]
    estimator = formats.load(starter / "models/churn/artifacts/model.skops")
    log = tmp_path / "serve.log"
    with running_server(folder, log, "--workers", "1") as url:
        yield url, frame[features], estimator
    assert "Traceback" not in log.read_text()


def _request(rng: random.Random, frame: pd.DataFrame) -> tuple[str, dict[str, Any], Any]:
    """(kind, requests kwargs, expected rows or None for a request that must be refused)."""
    rows = frame.sample(rng.randint(1, 20), random_state=rng.randint(0, 10**6))
    kind = rng.choice(["split", "records", "instances", "csv", "proba", "bad", "bad-json"])
    if kind == "split":
        body = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
    elif kind == "records":
        body = {"dataframe_records": json.loads(rows.to_json(orient="records"))}
    elif kind in ("instances", "proba"):
        body = {"instances": json.loads(rows.to_json(orient="records"))}
        if kind == "proba":
            body["params"] = {"method": "predict_proba"}
    elif kind == "csv":
        text = rows.to_csv(index=False)
        return kind, {"data": text, "headers": {"Content-Type": "text/csv"}}, rows
    elif kind == "bad":  # a column missing: refused, naming it
        body = {"dataframe_records": json.loads(rows.drop(columns=rows.columns[0]).to_json(
            orient="records"))}  # fmt: skip
        return kind, {"json": body}, None
    else:
        return kind, {"data": "{not json", "headers": {"Content-Type": "application/json"}}, None
    return kind, {"json": body}, rows


def _client(seed: int, url: str, frame: pd.DataFrame, estimator: Any) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    seen = []
    with requests.Session() as session:
        for _ in range(REQUESTS_EACH):
            kind, kwargs, rows = _request(rng, frame)
            answer = session.post(url + "/invocations", timeout=120, **kwargs)
            seen.append((kind, answer.status_code))
            if rows is None:
                assert answer.status_code == 400, (kind, answer.text)
                assert answer.json()["message"]
                continue
            assert answer.status_code == 200, (kind, answer.text)
            predictions = answer.json()["predictions"]
            if kind == "proba":
                expected = estimator.predict_proba(rows).tolist()
                assert all(abs(a - b) < 1e-9 for p, e in zip(predictions, expected, strict=True)
                           for a, b in zip(p, e, strict=True))  # fmt: skip
            else:
                assert predictions == estimator.predict(rows).tolist(), kind
    return seen


@pytest.mark.slow
def test_fifty_concurrent_clients(served: tuple[str, pd.DataFrame, Any]) -> None:
    url, frame, estimator = served
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(_client, i, url, frame, estimator) for i in range(CLIENTS)]
        seen = [item for f in futures for item in f.result()]
    statuses = Counter(status for _, status in seen)
    assert len(seen) == CLIENTS * REQUESTS_EACH
    assert set(statuses) <= {200, 400}, statuses
    metrics = requests.get(url + "/metrics", timeout=10).text
    counted = {
        int(status): int(n)
        for status, n in re.findall(
            r'mlgate_requests_total\{endpoint="/invocations",status="(\d+)"\} (\d+)', metrics
        )
    }
    assert counted == dict(statuses), (counted, statuses)  # nothing lost, nothing extra
