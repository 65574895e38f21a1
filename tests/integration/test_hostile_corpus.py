"""The hostile corpus (tests/hostile_corpus.py) against every command that reads model files.

Every sample's payload would only create a marker; no command may ever make it appear, and
``mlgate scan`` exits 1 on every sample. Real models of every supported framework pass the
scan and load with ``trusted: true`` and no trusted_types.
"""

from __future__ import annotations

import io
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from mlgate import formats, gitio
from mlgate.errors import MlgateError
from tests.conftest import invoke
from tests.hostile_corpus import Sample, corpus

MARKER = "PWNED"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[Sample, Path]]]:
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / MARKER
    files = []
    for i, sample in enumerate(corpus(marker)):
        path = folder / f"sample{i:03d}{sample.suffix}"
        path.write_bytes(sample.data)
        files.append((sample, path))
    return marker, files


def test_the_corpus_is_large_and_varied(hostile: tuple[Path, list[tuple[Sample, Path]]]) -> None:
    _, files = hostile
    samples = [s for s, _ in files]
    assert len(samples) >= 110
    assert {s.kind for s in samples} == {"pickle", "joblib", "skops"}
    assert {s.suffix for s in samples} >= {".pkl", ".bin", ".pt", ".joblib", ".skops"}


def test_the_payloads_are_live(hostile: tuple[Path, list[tuple[Sample, Path]]]) -> None:
    """Loaded by plain pickle in another interpreter, samples marked live do run: the corpus
    tests something. (The marker is removed again at once.)"""
    from mlgate import proc

    marker, files = hostile
    live = [p for s, p in files if s.live and s.kind == "pickle" and "system" in s.name][:6]
    assert live
    for path in live:
        script = f"import pickle; pickle.loads(open({str(path)!r}, 'rb').read())"
        proc.run([sys.executable, "-c", script], cwd=path.parent, check=False)
        assert marker.exists(), path
        marker.unlink()


def test_scan_exits_1_on_every_sample(hostile: tuple[Path, list[tuple[Sample, Path]]]) -> None:
    marker, files = hostile
    for sample, path in files:
        result = invoke("scan", str(path), "--json")
        assert result.exit_code == 1, (sample.name, result.output)
        assert "internal error" not in result.output, sample.name
        assert not marker.exists(), f"{sample.name}: ran while scanned"


def test_loading_refuses_every_sample(hostile: tuple[Path, list[tuple[Sample, Path]]]) -> None:
    """The load path of validate, check, serve and repro (formats.load), with the model
    trusted (as a pull request's mlgate.yaml may say) and with its format detected."""
    marker, files = hostile
    for sample, path in files:
        for fmt in (sample.fmt, None):
            with pytest.raises(MlgateError):
                formats.load(path, fmt=fmt, trusted=True, what=sample.name)
            assert not marker.exists(), f"{sample.name}: ran while loaded as {fmt}"


def configured(starter: Path, sample: Sample, path: Path) -> Path:
    """The starter project whose model file is ``sample``, trusted, with its format."""
    name = f"model{sample.suffix}"
    target = starter / "models" / "churn" / "artifacts" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(path.read_bytes())
    config = starter / "mlgate.yaml"
    text = config.read_text().replace(
        "file: artifacts/model.skops",
        f"file: artifacts/{name}\n      format: {sample.fmt}\n      trusted: true",
    )
    config.write_text(text.replace("artifacts/model.skops, ", f"artifacts/{name}, "))
    gitio.git(["init", "--quiet"], starter)
    gitio.git(["add", "--all"], starter)
    gitio.git(["commit", "--quiet", "-m", "pull request"], starter)
    return target


def representative(files: list[tuple[Sample, Path]]) -> Iterator[tuple[Sample, Path]]:
    wanted = ("posix.system p0", "chain numpy.random.mtrand", "__builtin__.eval via INST",
              "joblib gzip-compressed", "joblib in an object array", "skops reduce numpy runstring",
              "skops reduce sklearn assert_run_python_script")  # fmt: skip
    for key in wanted:
        yield next((s, p) for s, p in files if s.name.startswith(key))


@pytest.mark.slow
def test_commands_never_run_a_sample(
    hostile: tuple[Path, list[tuple[Sample, Path]]],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlgate.starter import InitRequest, init_project

    marker, files = hostile
    for sample, path in representative(files):
        starter = tmp_path_factory.mktemp("pr") / "starter"
        init_project(InitRequest(starter))
        configured(starter, sample, path)
        outcomes = {
            "scan": invoke("scan", cwd=starter),
            "validate": invoke("validate", cwd=starter),
            "check": invoke("check", "--stage", "scan", "--stage", "validate", cwd=starter),
            "publish": invoke(
                "publish", "--context-only", "--out", str(starter / "ctx"), cwd=starter
            ),
        }
        for command, outcome in outcomes.items():
            assert outcome.exit_code in (1, 2), (sample.name, command, outcome.output)
            assert "internal error" not in outcome.output, (sample.name, command)
            assert not marker.exists(), f"{sample.name}: ran in {command}"
        assert outcomes["scan"].exit_code == 1, sample.name
        _serve_load(path, sample, monkeypatch)
        assert not marker.exists(), f"{sample.name}: ran in serve's loader"


def _serve_load(path: Path, sample: Sample, monkeypatch: pytest.MonkeyPatch) -> None:
    """What mlgate serve does with a model directory: ServedModel.load (pickles are trusted
    there, since publish only ever ships files that passed the check)."""
    from mlgate.serve import model as served

    info = served.ModelInfo.from_dict(
        {
            "name": "churn",
            "model_file": path.name,
            "format": sample.fmt,
            "signature": {"inputs": [{"name": "a", "type": "double"}]},
        }
    )
    monkeypatch.setattr(served.ModelInfo, "read", classmethod(lambda _cls, _dir: info))
    with pytest.raises(MlgateError):
        served.ServedModel.load(path.parent)


@pytest.mark.slow
def test_repro_rerun_never_runs_a_sample(
    hostile: tuple[Path, list[tuple[Sample, Path]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Training (the pull request's own code) writes the hostile file; the re-run compares
    predictions, so it loads the outputs: refused, never run."""
    from mlgate.starter import InitRequest, init_project

    marker, files = hostile
    for sample, path in list(representative(files))[::3]:
        starter = tmp_path_factory.mktemp("rerun") / "starter"
        init_project(InitRequest(starter))
        (starter / "models" / "churn" / "hostile.bin").write_bytes(path.read_bytes())
        config = starter / "mlgate.yaml"
        name = f"model{sample.suffix}"
        # Each run writes other bytes (a time stamp after the sample), so the re-run's
        # comparison has to load both files: identical bytes would need no loading.
        copy = (
            f"{sys.executable} -c \"import time; open('artifacts/{name}', 'wb').write("
            "open('hostile.bin', 'rb').read() + str(time.time_ns()).encode())\""
        )
        config.write_text(
            config.read_text()
            .replace("command: python train.py", f"command: {copy}")
            .replace(
                "outputs: [artifacts/model.skops, artifacts/metrics.json]",
                f"outputs: [artifacts/{name}]",
            )
            .replace("      metrics: artifacts/metrics.json\n", "")
            .replace(
                "file: artifacts/model.skops",
                f"file: artifacts/{name}\n      format: {sample.fmt}\n      trusted: true",
            )
        )
        (starter / "models" / "churn" / "artifacts").mkdir(exist_ok=True)
        gitio.git(["init", "--quiet"], starter)
        gitio.git(["add", "--all"], starter)
        gitio.git(["commit", "--quiet", "-m", "pull request"], starter)
        outcome = invoke("repro", "--rerun", cwd=starter)
        if sample.kind != "skops":  # skops archives compare by member digests, never loaded
            assert outcome.exit_code != 0, (sample.name, outcome.output)
        assert "internal error" not in outcome.output, sample.name
        assert not marker.exists(), f"{sample.name}: ran in repro --rerun"


# -- benign controls --------------------------------------------------------------------------


def benign_models() -> Iterator[tuple[str, Any]]:
    import catboost
    import lightgbm
    import xgboost
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x, y = rng.random((80, 4)), np.arange(80) % 2
    yield "sklearn pipeline", make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    yield "random forest", RandomForestClassifier(5, random_state=0).fit(x, y)
    yield "hist gradient boosting", HistGradientBoostingClassifier(max_iter=5).fit(x, y)
    yield "xgboost", xgboost.XGBClassifier(n_estimators=5, max_depth=2).fit(x, y)
    yield "lightgbm", lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(x, y)
    yield (
        "catboost",
        catboost.CatBoostClassifier(iterations=5, verbose=0, allow_writing_files=False).fit(x, y),
    )


def test_real_models_pass_the_scan_and_load_trusted(tmp_path: Path) -> None:
    import skops.io as sio

    x = np.random.default_rng(1).random((10, 4))
    for label, model in benign_models():
        written: dict[str, tuple[str, bytes]] = {}
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        written["joblib"] = ("joblib", buffer.getvalue())
        buffer = io.BytesIO()
        joblib.dump(model, buffer, compress=3)
        written["joblib.gz"] = ("joblib", buffer.getvalue())
        if label.startswith(("sklearn", "random", "hist")):
            written["pkl"] = ("pickle", pickle.dumps(model))
            written["skops"] = ("skops", bytes(sio.dumps(model)))
        for suffix, (fmt, data) in written.items():
            path = tmp_path / f"{label.replace(' ', '-')}.{suffix}"
            path.write_bytes(data)
            result = invoke("scan", str(path))
            assert result.exit_code == 0, (label, suffix, result.output)
            loaded = formats.load(path, fmt=fmt, trusted=True)
            assert (loaded.predict(x) == model.predict(x)).all(), (label, suffix)
