"""Comparing the outputs of two trainings: archive content hashes, bitwise, predictions, metrics."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mlgate.config.loader import load_config
from mlgate.config.model import ModelConfig
from mlgate.config.sections import ReproSettings, parse_repro
from mlgate.errors import ConfigError
from mlgate.formats.legacy import archive_digest
from mlgate.modelio import save_model
from mlgate.repro.artifacts import first_difference, read_metrics
from mlgate.repro.equivalence import MODES, Comparison, RunSnapshot, compare_runs, likely_causes
from mlgate.repro.hashing import Hasher
from mlgate.repro.runs import hash_outputs
from mlgate.verdict import Status

MODEL = "models/churn/artifacts/model.skops"
METRICS = "models/churn/artifacts/metrics.json"


def fitted(c: float = 1.0) -> LogisticRegression:
    x = np.arange(40, dtype=float).reshape(20, 2)
    return LogisticRegression(C=c).fit(x, np.arange(20) % 2)


def test_identical_models_saved_twice_have_equal_content_hash_but_other_bytes(
    tmp_path: Path,
) -> None:
    # Two separately fitted (equal) models: different object ids inside the skops files.
    first, second = fitted(), fitted()
    a = save_model(first, tmp_path / "a.skops")
    b = save_model(second, tmp_path / "b.skops")
    assert a.read_bytes() != b.read_bytes()
    digest_a, digest_b = archive_digest(a), archive_digest(b)
    assert digest_a is not None
    assert digest_b is not None
    assert digest_a.kind == "skops"
    assert digest_a.sha256 == digest_b.sha256
    different = archive_digest(save_model(fitted(c=0.01), tmp_path / "c.skops"))
    assert different is not None
    assert different.sha256 != digest_a.sha256


def test_plain_zip_content_ignores_member_order_and_timestamps(tmp_path: Path) -> None:
    for name, order, date in (
        ("a.zip", ["x", "y"], (2020, 1, 1, 0, 0, 0)),
        ("b.zip", ["y", "x"], (2024, 5, 5, 5, 5, 6)),
    ):
        with zipfile.ZipFile(tmp_path / name, "w") as zf:
            for member in order:
                zf.writestr(zipfile.ZipInfo(member, date), member * 3)
    a, b = archive_digest(tmp_path / "a.zip"), archive_digest(tmp_path / "b.zip")
    assert a is not None
    assert b is not None
    assert (a.kind, a.sha256) == ("zip", b.sha256)
    (tmp_path / "plain.bin").write_bytes(b"PK not really")
    assert archive_digest(tmp_path / "plain.bin") is None


def test_first_difference(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"0123456789")
    (tmp_path / "b").write_bytes(b"0123X56789")
    (tmp_path / "c").write_bytes(b"0123")
    assert first_difference(tmp_path / "a", tmp_path / "b") == 4
    assert first_difference(tmp_path / "a", tmp_path / "c") == 4
    assert first_difference(tmp_path / "a", tmp_path / "a") is None


def test_read_metrics_keeps_finite_numbers(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"auc": 0.8, "cv": {"mean": 0.7}, "name": "x", "ok": True}))
    metrics, notes = read_metrics(path, "m.json")
    assert metrics == {"auc": 0.8, "cv.mean": 0.7}
    assert "name" in notes[0]
    assert "ok" in notes[0]
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        read_metrics(path, "m.json")
    with pytest.raises(ConfigError, match="metrics file not found"):
        read_metrics(tmp_path / "none.json", "none.json")


# --- compare_runs -----------------------------------------------------------------------------


def snapshot(root: Path, label: str, model: Any, metrics: dict[str, float]) -> RunSnapshot:
    artifacts = root / "models/churn/artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    save_model(model, artifacts / "model.skops")
    (artifacts / "metrics.json").write_text(json.dumps(metrics))
    files = [artifacts / "model.skops", artifacts / "metrics.json"]
    outputs = hash_outputs(root, files, Hasher())
    return RunSnapshot(label, outputs, {rel: root / rel for rel in outputs}, metrics)


def churn(starter: Path, **repro: Any) -> tuple[ModelConfig, ReproSettings]:
    config = load_config(starter / "mlgate.yaml")
    model = config.model("churn")
    raw = {**config.raw["models"][model.index].get("repro", {}), **repro}
    model = replace(model, repro=parse_repro(raw, model.resolve))
    return model, model.repro


def run_compare(
    starter: Path, a: RunSnapshot, b: RunSnapshot, predict: Any = None, **repro: Any
) -> list[Any]:
    model, settings = churn(starter, **repro)
    return compare_runs(
        Comparison(a, b, model, settings, MODEL, METRICS, predict, prefix="repro.rerun")
    )


def test_bitwise_passes_for_equal_models_by_content(starter: Path, tmp_path: Path) -> None:
    a = snapshot(tmp_path / "1", "run 1", fitted(), {"auc": 0.8})
    b = snapshot(tmp_path / "2", "run 2", fitted(), {"auc": 0.8})
    checks = run_compare(starter, a, b, mode="bitwise")
    assert [c.status for c in checks] == [Status.PASS, Status.PASS]
    model_check = next(c for c in checks if MODEL in c.id)
    assert "identical skops content" in model_check.message
    assert "timestamps" in model_check.details["note"]


def test_bitwise_failure_names_output_and_members(starter: Path, tmp_path: Path) -> None:
    a = snapshot(tmp_path / "1", "run 1", fitted(), {"auc": 0.8})
    b = snapshot(tmp_path / "2", "run 2", fitted(c=0.01), {"auc": 0.79})
    checks = {c.id: c for c in run_compare(starter, a, b, mode="bitwise")}
    model_check = checks[f"repro.rerun.output:{MODEL}"]
    assert model_check.failed
    assert "archive members differ" in model_check.message
    assert model_check.details["differing_members"]
    metrics_check = checks[f"repro.rerun.output:{METRICS}"]
    assert metrics_check.failed
    assert "first at byte" in metrics_check.message


def test_predictions_mode_reports_max_difference_and_row(starter: Path, tmp_path: Path) -> None:
    a = snapshot(tmp_path / "1", "run 1", fitted(), {"auc": 0.8})
    b = snapshot(tmp_path / "2", "run 2", fitted(c=0.5), {"auc": 0.8 + 1e-12})
    outputs = {
        a.files[MODEL]: np.array([[0.2, 0.8], [0.5, 0.5]]),
        b.files[MODEL]: np.array([[0.2, 0.8], [0.45, 0.55]]),
    }
    checks = {
        c.id: c
        for c in run_compare(
            starter,
            a,
            b,
            predict=outputs.__getitem__,
            mode="predictions",
            tolerance={"predictions": 0.01, "metrics": 1e-9},
        )
    }
    pred = checks[f"repro.rerun.predictions:{MODEL}"]
    assert pred.failed
    assert pred.observed == pytest.approx(0.05)
    assert pred.threshold == 0.01
    assert pred.details["worst_row"] == 1
    assert pred.details["rows_over_tolerance"] == 1
    assert "differ from run 1 by up to 0.05" in pred.message
    assert checks["repro.rerun.metric:auc"].status is Status.PASS


def test_predictions_of_identical_content_skip_loading(starter: Path, tmp_path: Path) -> None:
    a = snapshot(tmp_path / "1", "run 1", fitted(), {"auc": 0.8})
    b = snapshot(tmp_path / "2", "run 2", fitted(), {"auc": 0.8})

    def never(path: Path) -> Any:
        raise AssertionError("identical models need no predictions")

    checks = run_compare(starter, a, b, predict=never, mode="predictions")
    assert all(c.status is Status.PASS for c in checks)


def test_metrics_mode_tolerance_and_missing_metric(starter: Path, tmp_path: Path) -> None:
    a = snapshot(tmp_path / "1", "run 1", fitted(), {"auc": 0.80, "loss": 0.5})
    b = snapshot(tmp_path / "2", "run 2", fitted(c=0.5), {"auc": 0.81})
    checks = {
        c.id: c for c in run_compare(starter, a, b, mode="metrics", tolerance={"metrics": 0.02})
    }
    assert checks["repro.rerun.metric:auc"].status is Status.PASS
    assert checks["repro.rerun.metric:auc"].observed == pytest.approx(0.01)
    assert checks["repro.rerun.metric:loss"].failed
    assert "missing from run 2" in checks["repro.rerun.metric:loss"].message
    # The model file differs, but metrics mode does not require it to match: a warning.
    assert checks[f"repro.rerun.output:{MODEL}"].status is Status.WARN


def test_missing_output_fails(starter: Path, tmp_path: Path) -> None:
    a = snapshot(tmp_path / "1", "run 1", fitted(), {"auc": 0.8})
    b = snapshot(tmp_path / "2", "run 2", fitted(), {"auc": 0.8})
    b.files.pop(METRICS)
    failed = [c for c in run_compare(starter, a, b, mode="bitwise") if c.failed]
    assert [c.message for c in failed] == [f"{METRICS} is missing from run 2"]


def test_likely_causes_put_read_order_first_for_data_folders(starter: Path) -> None:
    model, _ = churn(starter)
    hints = likely_causes(model, {"data": {"d": {"kind": "directory"}}}, [])
    assert hints[0].startswith("data read order")
    assert any("unseeded randomness" in h for h in hints)
    assert any("thread nondeterminism" in h for h in hints)
    assert model.train is not None
    unseeded = ModelConfig(
        **{**model.__dict__, "train": type(model.train)(command="python train.py")}
    )
    assert "train.seed is not set" in likely_causes(unseeded, {"data": {}}, [])[0]


def test_hash_outputs_records_content_hash_for_archives(tmp_path: Path) -> None:
    path = save_model(fitted(), tmp_path / "m.skops")
    (tmp_path / "m.txt").write_text("x")
    out = hash_outputs(tmp_path, [path, tmp_path / "m.txt", tmp_path / "absent"], Hasher())
    assert set(out) == {"m.skops", "m.txt"}
    assert out["m.skops"]["content_kind"] == "skops"
    assert out["m.txt"] == {"sha256": hashlib.sha256(b"x").hexdigest(), "size": 1}


def test_every_configurable_mode_has_a_comparison() -> None:
    from mlgate.schemas import load_schema

    assert set(MODES) == set(load_schema("config")["$defs"]["repro"]["properties"]["mode"]["enum"])


def test_folder_outputs_are_hashed_and_compared_by_member(starter: Path, tmp_path: Path) -> None:
    for run, text in (("1", "same"), ("2", "other")):
        folder = tmp_path / run / "models/churn/artifacts/plots"
        folder.mkdir(parents=True)
        (folder / "roc.svg").write_text("<svg/>")
        (folder / "notes.txt").write_text(text)
    snaps = []
    for run in ("1", "2"):
        root = tmp_path / run
        outputs = hash_outputs(root, [root / "models/churn/artifacts/plots"], Hasher())
        snaps.append(RunSnapshot(f"run {run}", outputs, {r: root / r for r in outputs}, None))
    entry = snaps[0].outputs["models/churn/artifacts/plots"]
    assert (entry["kind"], entry["count"], entry["size"]) == ("directory", 2, 10)
    (check,) = run_compare(starter, snaps[0], snaps[1], mode="bitwise")
    assert check.failed
    assert check.details["differing_files"] == ["notes.txt"]
    assert "1 of 2 files differ (notes.txt)" in check.message


def test_a_remembered_rerun_agreement_holds_only_for_the_same_inputs_outputs_and_terms(
    tmp_path: Path,
) -> None:
    from mlgate.config.sections import ReproSettings
    from mlgate.repro import agreed

    settings = ReproSettings(mode="predictions")
    outputs = {"models/m/model.skops": {"sha256": "ab" * 32, "size": 3}}
    assert agreed.recall(tmp_path, "sha256:1", settings, outputs) is None
    path = agreed.remember(tmp_path, "sha256:1", settings, outputs, {"runs": 1})
    assert path.parent == tmp_path / ".mlgate/cache/reruns"
    recalled = agreed.recall(tmp_path, "sha256:1", settings, outputs)
    assert recalled is not None
    assert recalled["rerun"] == {"runs": 1}
    assert agreed.recall(tmp_path, "sha256:2", settings, outputs) is None
    other = {"models/m/model.skops": {"sha256": "cd" * 32, "size": 3}}
    assert agreed.recall(tmp_path, "sha256:1", settings, other) is None
    assert agreed.recall(tmp_path, "sha256:1", ReproSettings(mode="bitwise"), outputs) is None
    looser = ReproSettings(mode="predictions", tolerance_predictions=1e-3)
    assert agreed.recall(tmp_path, "sha256:1", looser, outputs) is None
    assert agreed.recall(tmp_path, "sha256:1", settings, {}) is None
    path.write_text("{not json")
    assert agreed.recall(tmp_path, "sha256:1", settings, outputs) is None
