"""The model-format registry: detection by content, the errors for mismatched, unknown and
unloadable files, and each format's parts that need no training script (scan, signature,
requirements, canonical content)."""

from __future__ import annotations

import importlib
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlgate import formats
from mlgate.errors import ConfigError
from mlgate.formats import mlflow as mlflow_format
from mlgate.formats.onnx import classlabels
from mlgate.formats.predictors import as_probabilities, real_names
from mlgate.modelio import UnsafeModelError, save_model
from mlgate.scan import ScanRequest, scan
from mlgate.schemas import load_schema as schema
from mlgate.verdict import Status

HEADS = {
    "xgboost": b'{"learner":{"attributes":{},"feature_names":[]},"version":[3,2,0]}',
    "xgboost-ubj": b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner{",
    "lightgbm": b"tree\nversion=v4\nnum_class=1\n",
    "catboost": b"CBM1\xa0/\x00\x00",
    "onnx": b"\x08\x0a\x12\x08skl2onnx\x1a\x061.20.0",
}


def frame(rows: int = 60) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(rows, 3)), columns=["a", "b", "c"])
    return x, (x["a"] + x["b"] > 0).astype(int).to_numpy()


def test_the_schemas_offer_exactly_the_registered_formats() -> None:
    config = schema("config")["$defs"]["model_file"]["properties"]["format"]["enum"]
    served = schema("served-model")["properties"]["format"]["enum"]
    assert sorted(config) == sorted(served) == sorted(formats.FORMATS)


@pytest.mark.parametrize("name", list(HEADS))
def test_native_files_are_recognised_by_content_whatever_their_name(
    name: str, tmp_path: Path
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(HEADS[name])
    found = formats.detect(path)
    assert found is not None
    assert found.name == name.split("-", maxsplit=1)[0]
    assert found.loads_without_unpickling(path)


def test_pickle_joblib_and_skops_are_told_apart(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    x, y = frame()
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(x.to_numpy(), y)
    (tmp_path / "a.pkl").write_bytes(pickle.dumps(model))
    (tmp_path / "old.pkl").write_bytes(pickle.dumps({"a": [1, 2]}, protocol=0))
    joblib.dump(model, tmp_path / "b.bin")
    save_model(model, tmp_path / "c.data")
    (tmp_path / "notes.txt").write_text("nothing to see\n")
    detected = {p.name: getattr(formats.detect(p), "name", None) for p in tmp_path.iterdir()}
    assert detected == {
        "a.pkl": "pickle",
        "old.pkl": "pickle",
        "b.bin": "joblib",
        "c.data": "skops",
        "notes.txt": None,
    }


def test_a_configured_format_that_does_not_match_the_content_names_both(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(HEADS["xgboost"])
    with pytest.raises(ConfigError) as info:
        formats.load(path, fmt="skops")
    text = info.value.render()
    assert "is an XGBoost file but model.format says skops" in text
    assert "set model.format: xgboost" in text
    assert info.value.exit_code == 2


def test_pickle_and_joblib_may_stand_for_each_other(tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    assert formats.resolve(path, "joblib").name == "joblib"


def test_an_unknown_file_lists_every_format_and_how_to_save_to_it(tmp_path: Path) -> None:
    path = tmp_path / "model.weights"
    path.write_bytes(b"\x00\x01 not a model")
    with pytest.raises(ConfigError) as info:
        formats.load(path)
    text = info.value.render()
    assert "is in no format mlgate knows" in text
    for name in formats.FORMATS:
        assert f"  {name} (" in text
    assert "save_model('model.json')" in text  # XGBoost users are told XGBoost's own way
    assert "booster_.save_model('model.txt')" in text
    assert "torch.onnx.export" in text


def test_a_damaged_file_of_a_known_suffix_gets_its_loader_error_and_the_list(
    tmp_path: Path,
) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(b"not a zip")
    with pytest.raises(ConfigError) as info:
        formats.load(path)
    assert "not a valid skops file" in info.value.message
    assert any("xgboost (XGBoost)" in d for d in info.value.details)


def test_a_missing_framework_library_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.txt"
    path.write_bytes(HEADS["lightgbm"])
    real = importlib.import_module

    def no_lightgbm(name: str, *args: Any) -> Any:
        if name == "lightgbm":
            raise ImportError("No module named 'lightgbm'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_lightgbm)
    with pytest.raises(formats.MissingLibrary) as info:
        formats.load(path)
    assert f"the model {path} is a LightGBM model; install lightgbm" in info.value.message
    assert info.value.exit_code == 2


def test_an_unloadable_native_file_is_a_config_error(tmp_path: Path) -> None:
    pytest.importorskip("xgboost")
    path = tmp_path / "model.json"
    path.write_bytes(b'{"learner": "broken"}')
    with pytest.raises(ConfigError, match="as an XGBoost model"):
        formats.load(path)


def test_scan_passes_native_files_and_lists_them_from_a_folder(tmp_path: Path) -> None:
    for name, head in HEADS.items():
        (tmp_path / f"{name}.model").write_bytes(head)
    (tmp_path / "m.json").write_bytes(HEADS["xgboost"])
    (tmp_path / "settings.json").write_text('{"not": "a model"}')
    (tmp_path / "m.cbm").write_bytes(HEADS["catboost"])
    verdict = scan(ScanRequest((tmp_path,)))
    shown = {c.message.split(":")[0].rsplit("/", 1)[-1]: c for c in verdict.checks}
    assert sorted(shown) == ["m.cbm", "m.json"]  # .model is no model suffix; settings.json no model
    assert all(c.status == Status.PASS for c in shown.values())
    assert shown["m.json"].details == {"format": "xgboost"}
    single = scan(ScanRequest((tmp_path / "onnx.model",))).checks[0]
    assert single.status == Status.PASS
    assert "never unpickled" in single.message


def test_protobuf_class_labels_without_the_onnx_package() -> None:
    def varint(value: int) -> bytes:
        out = b""
        while True:
            byte, value = value & 0x7F, value >> 7
            out += bytes([byte | (0x80 if value else 0)])
            if not value:
                return out

    def field(number: int, payload: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    strings = field(1, b"classlabels_strings") + field(9, b"no") + field(9, b"yes")
    packed = b"".join(varint(v % (1 << 64)) for v in (-1, 0, 7))
    ints = field(1, b"classlabels_int64s") + field(8, packed)
    other = field(1, b"post_transform") + field(4, b"NONE")
    node = field(4, b"TreeEnsembleClassifier") + field(5, other) + field(5, strings)
    model = varint(1 << 3) + varint(9) + field(7, field(1, node))
    assert classlabels(model) == ["no", "yes"]
    assert classlabels(varint(8) + varint(9) + field(7, field(1, field(5, ints)))) == [-1, 0, 7]
    assert classlabels(varint(8) + varint(9)) is None


def test_generated_feature_names_are_not_feature_names() -> None:
    assert real_names(["Column_0", "Column_1"]) is None
    assert real_names(["f0", "f1"]) is None
    assert real_names(["0", "1"]) is None
    assert real_names([]) is None
    assert list(real_names(["age", "f1"])) == ["age", "f1"]  # type: ignore[arg-type]


def test_scores_become_probabilities() -> None:
    proba = np.array([[0.2, 0.8], [0.5, 0.5]])
    assert as_probabilities(proba) is not None
    np.testing.assert_allclose(as_probabilities(proba), proba)
    logits = as_probabilities(np.array([[2.0, -1.0], [0.0, 0.0]]))
    np.testing.assert_allclose(logits.sum(axis=1), 1.0)
    assert logits[0, 0] > logits[0, 1]
    np.testing.assert_allclose(as_probabilities(np.array([0.0])), [0.0])
    np.testing.assert_allclose(as_probabilities(np.array([[0.0]])), [0.0])
    assert as_probabilities(np.array([-3.0]))[0] < 0.5  # a logit through the sigmoid


# -- MLflow model directories (layouts as MLflow writes them; real MLflow in the integration
# tests) -----------------------------------------------------------------------------------


def mlmodel(folder: Path, flavors: dict[str, Any], **extra: Any) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MLmodel").write_text(yaml.safe_dump({"flavors": flavors, **extra}))
    return folder


SIGNATURE = {
    "inputs": json.dumps(
        [
            {"type": "double", "name": "a", "required": True},
            {"type": "long", "name": "b", "required": True},
            {"type": "string", "name": "c", "required": True},
        ]
    ),
    "outputs": None,
}


def test_mlflow_signature_requirements_and_canonical_content(tmp_path: Path) -> None:
    x, y = frame()
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(x, y)
    flavors = {"sklearn": {"pickled_model": "model.skops", "serialization_format": "skops"}}
    first = mlmodel(tmp_path / "one", flavors, signature=SIGNATURE, utc_time_created="1")
    save_model(model, first / "model.skops")
    (first / "requirements.txt").write_text("mlflow==3.0.0\nscikit-learn==1.9.1\n# note\n")
    second = mlmodel(tmp_path / "two", flavors, signature=SIGNATURE, utc_time_created="2")
    save_model(model, second / "model.skops")
    fmt = formats.detect(first)
    assert fmt is not None
    assert fmt.name == "mlflow"
    assert formats.detect(first / "MLmodel") is fmt
    assert fmt.signature(first) == (("a", "float"), ("b", "integer"), ("c", "string"))
    assert fmt.requirements(first) == ("scikit-learn==1.9.1",)  # MLflow is not served
    assert fmt.loads_without_unpickling(first)
    assert fmt.content_digest(first) != fmt.content_digest(second)  # requirements.txt differs
    (second / "requirements.txt").write_text((first / "requirements.txt").read_text())
    assert fmt.content_digest(first) == fmt.content_digest(second)  # the timestamp is left out
    loaded = formats.load(first)
    assert list(loaded.feature_names_in_) == ["a", "b", "c"]
    assert list(loaded.classes_) == [0, 1]
    check = fmt.scan(first, check_id="scan:one", shown="one", trusted_types=(), config_key=None)
    assert check.status == Status.PASS
    assert check.details["flavor"] == "sklearn"


def test_mlflow_conda_pip_list_is_read_when_there_is_no_requirements_file(
    tmp_path: Path,
) -> None:
    import yaml

    folder = mlmodel(tmp_path / "m", {"catboost": {"data": "model.cb"}})
    (folder / "model.cb").write_bytes(HEADS["catboost"])
    conda = {"dependencies": ["python=3.11", {"pip": ["catboost==1.2.10", "mlflow==3.1"]}]}
    (folder / "conda.yaml").write_text(yaml.safe_dump(conda))
    assert mlflow_format.MLFLOW.requirements(folder) == ("catboost==1.2.10",)
    assert mlflow_format.MLFLOW.modules(folder) == {"catboost"}


@pytest.mark.parametrize(
    ("flavors", "files", "message"),
    [
        ({"xgboost": {"data": "../outside.json"}}, {}, "outside the model directory"),
        ({"xgboost": {"data": "model.ubj"}}, {}, "is missing"),
        ({"xgboost": {}}, {}, "names no file"),
        ({"xgboost": {"data": "model.ubj"}}, {"model.ubj": HEADS["lightgbm"]}, "LightGBM file"),
        ({"sklearn": {"pickled_model": "m.bin"}}, {"m.bin": b"\x00junk"}, "no format mlgate"),
        ({"h2o": {"data": "model.h2o"}}, {}, "no flavor mlgate loads"),
    ],
)
def test_mlflow_directories_that_cannot_be_loaded_say_why(
    flavors: dict[str, Any], files: dict[str, bytes], message: str, tmp_path: Path
) -> None:
    folder = mlmodel(tmp_path / "m", flavors)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with pytest.raises(ConfigError, match=message):
        formats.load(folder)
    check = scan(ScanRequest((folder,))).checks[0]
    assert check.status == Status.FAIL
    assert message.split(maxsplit=1)[0] in check.message


def test_a_python_function_model_needs_trust_and_is_scanned(tmp_path: Path) -> None:
    pyfunc = {"python_function": {"loader_module": "mlflow.pyfunc.model"}}
    folder = mlmodel(tmp_path / "m", pyfunc)
    (folder / "python_model.pkl").write_bytes(pickle.dumps({"weights": [1, 2]}))
    with pytest.raises(UnsafeModelError, match="loads it only when the configuration trusts"):
        formats.load(folder)
    assert not mlflow_format.MLFLOW.loads_without_unpickling(folder)
    assert mlflow_format.MLFLOW.modules(folder) == {"mlflow", "cloudpickle"}
    assert scan(ScanRequest((folder,))).checks[0].status == Status.WARN
    (folder / "python_model.pkl").write_bytes(
        b"\x80\x04\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93"
        b"\x94\x8c\x02id\x94\x85\x94R\x94."
    )
    with pytest.raises(UnsafeModelError, match=r"posix\.system is not on mlgate's allow-list"):
        formats.load(folder, trusted=True)
    failed = scan(ScanRequest((folder,))).checks[0]
    assert failed.status == Status.FAIL
    assert "posix.system" in failed.message


def test_a_python_function_file_without_a_pickle_header_is_judged_too(tmp_path: Path) -> None:
    """Protocols 0 and 1 have no header (this stream starts with BININT1, which the content
    sniffer does not take for a pickle); MLflow unpickles the file its flavor names whatever
    it holds."""
    pyfunc = {"python_function": {"loader_module": "mlflow.pyfunc.model", "python_model": "pm"}}
    folder = mlmodel(tmp_path / "m", pyfunc)
    (folder / "pm").write_bytes(b"K\x010cposix\nsystem\n(S'id'\ntR.")
    with pytest.raises(UnsafeModelError, match=r"posix\.system"):
        formats.load(folder, trusted=True)
    failed = scan(ScanRequest((folder,))).checks[0]
    assert failed.status == Status.FAIL
    assert "posix.system" in failed.message


def test_a_folder_scan_takes_mlflow_directories_whole(tmp_path: Path) -> None:
    folder = mlmodel(tmp_path / "models" / "m", {"catboost": {"data": "model.cb"}})
    (folder / "model.cb").write_bytes(HEADS["catboost"])
    (folder / "extra.pkl").write_bytes(pickle.dumps([1]))  # inside: part of the directory
    (tmp_path / "other.pkl").write_bytes(pickle.dumps([2]))
    checks = scan(ScanRequest((tmp_path,))).checks
    assert len(checks) == 2
    assert [c.details["format"] for c in checks] == ["mlflow", "pickle"]
