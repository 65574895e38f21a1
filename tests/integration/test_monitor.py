"""``mlgate monitor`` on traffic a real ``mlgate serve`` captured: steady traffic passes, drift
injected into later traffic fails the drift gate (the window picks which), and once labels
arrive a live metric regression fails the metric gates."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import requests

from mlgate.verdict import read_verdict
from tests.conftest import invoke
from tests.integration.serve_support import running_server, served_model_dir

BATCH = 5


def _send(url: str, frame: pd.DataFrame, prefix: str) -> list[str]:
    ids = []
    with requests.Session() as session:
        for start in range(0, len(frame), BATCH):
            rows = frame.iloc[start : start + BATCH]
            request_id = f"{prefix}-{start // BATCH}"
            answer = session.post(url + "/invocations", headers={"X-Request-ID": request_id},
                                  json={"dataframe_split": json.loads(rows.to_json(
                                      orient="split", index=False))}, timeout=60)  # fmt: skip
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-request-id"] == request_id
            ids.append(request_id)
    return ids


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The starter, its capture folder (steady, then drifted traffic), and the time between."""
    from mlgate.starter import InitRequest, init_project

    root = tmp_path_factory.mktemp("monitor")
    starter = root / "starter"
    init_project(InitRequest(starter))
    served = served_model_dir(starter, root / "served")
    frame = pd.read_csv(starter / "models/churn/data/eval.csv")
    features = [c for c in frame.columns if c not in ("churned", "gender")]
    drifted = frame[features].copy()
    drifted["tenure_months"] += 18
    drifted["monthly_charges"] *= 1.3
    drifted["contract"] = "monthly"
    folder = root / "capture"
    with running_server(served, root / "serve.log", "--capture-dir", str(folder),
                        "--capture-rotate-mb", "1", "--no-access-log") as url:  # fmt: skip
        _send(url, frame[features].head(1000), "steady")
        _send(url, drifted.head(1000), "drifted")
    # The window boundary: one millisecond after the last steady request was captured (the
    # drifted ones came after it; any in the same millisecond fall on the steady side).
    stamps = [json.loads(line) for f in sorted(folder.glob("capture-*.jsonl"))
              for line in f.read_text().splitlines()]  # fmt: skip
    last = max(pd.Timestamp(r["ts"]) for r in stamps if r["request_id"].startswith("steady"))
    between = (last + pd.Timedelta(milliseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return starter, folder, between


def _verdict(starter: Path) -> dict:
    verdict = read_verdict(starter / ".mlgate/out/churn/monitor.json")
    assert verdict.kind == "monitor"
    return {c.id: c for c in verdict.checks}


def test_steady_traffic_passes_and_injected_drift_fails(captured: tuple[Path, Path, str]) -> None:
    starter, folder, between = captured
    steady = invoke("monitor", "--data", str(folder), "--until", between, cwd=starter)
    assert steady.exit_code == 0, steady.output
    checks = _verdict(starter)
    assert checks["drift.dataset"].status.value == "pass"
    assert checks["prediction_drift"].status.value == "pass"
    assert "live metric gates not applied" in steady.output

    drifted = invoke("monitor", "--data", str(folder), "--since", between, cwd=starter)
    assert drifted.exit_code == 1, drifted.output
    checks = _verdict(starter)
    assert checks["drift.dataset"].failed
    assert {c for c, v in checks.items() if v.status.value == "warn"} >= {
        "drift.column.tenure_months",
        "drift.column.monthly_charges",
        "drift.column.contract",
    }
    markdown = (starter / ".mlgate/out/churn/monitor.md").read_text()
    assert "drift.dataset" in markdown
    assert "production rows in" in markdown

    empty = invoke("monitor", "--data", str(folder), "--until", "2000-01-01", cwd=starter)
    assert empty.exit_code == 1
    assert _verdict(starter)["monitor.data"].failed


def test_live_metrics_once_labels_arrive(captured: tuple[Path, Path, str], tmp_path: Path) -> None:
    starter, folder, between = captured
    frame = pd.read_csv(starter / "models/churn/data/eval.csv").head(1000)
    ids = [f"steady-{i // BATCH}" for i in range(len(frame))]
    labels = pd.DataFrame({"request_id": ids, "row": [i % BATCH for i in range(len(frame))],
                           "churned": frame["churned"]})  # fmt: skip
    good = tmp_path / "labels.csv"
    labels.to_csv(good, index=False)
    ok = invoke("monitor", "--data", str(folder), "--until", between, "--labels", str(good),
                cwd=starter)  # fmt: skip
    assert ok.exit_code == 0, ok.output
    checks = _verdict(starter)
    assert checks["metric.roc_auc.min"].status.value == "pass"
    assert "live metrics on 1000 labelled production rows" in ok.output

    # The world changed: a third of the outcomes now go the other way.
    worse = labels.copy()
    flip = worse.index % 3 == 0
    worse.loc[flip, "churned"] = 1 - worse.loc[flip, "churned"]
    bad = tmp_path / "labels-later.parquet"
    worse.to_parquet(bad)
    regressed = invoke("monitor", "--data", str(folder), "--until", between, "--labels",
                       str(bad), "--json", cwd=starter)  # fmt: skip
    assert regressed.exit_code == 1, regressed.output
    failed = {c["id"] for c in json.loads(regressed.stdout)["checks"] if c["status"] == "fail"}
    assert {"metric.roc_auc.min", "metric.accuracy.min"} <= failed
    assert not any(c.startswith("drift") for c in failed)
