"""skops files: archive checks, every name a schema node uses on the exact list, skops's audit."""

from __future__ import annotations

import io
import json
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlgate import formats
from mlgate.modelio import UnsafeModelError
from mlgate.safety import skopsfile

X = np.random.default_rng(0).random((40, 3))
Y = np.arange(40) % 2


def pipeline_bytes() -> bytes:
    return bytes(sio.dumps(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y)))


def rewrite(data: bytes, edit: Any = None, extra: dict[str, bytes] | None = None) -> bytes:
    """The same archive with its schema edited and members added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "schema.json" and edit is not None:
                schema = json.loads(content)
                edit(schema)
                content = json.dumps(schema).encode()
            target.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def hidden_call(module: str, name: str, args: list[Any]) -> Any:
    """A node calling module.name(*args), added as an extra attribute of the pipeline."""
    content = {
        "__class__": "tuple",
        "__module__": "builtins",
        "__loader__": "TupleNode",
        "content": [
            {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
             "content": json.dumps(a), "is_json": True}
            for a in args
        ],
    }  # fmt: skip

    def edit(schema: dict[str, Any]) -> None:
        schema["content"]["content"]["extra"] = {
            "__class__": name,
            "__module__": module,
            "__loader__": "ConstructorFromReduceNode",
            "content": content,
        }

    return edit


def test_a_real_pipeline_passes_and_loads(tmp_path: Path) -> None:
    data = pipeline_bytes()
    assert skopsfile.judge(data) == ([], [])
    path = tmp_path / "m.skops"
    path.write_bytes(data)
    assert formats.load(path).predict(X).shape == (40,)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("numpy.testing._private.utils", "runstring"),
        ("sklearn.utils._testing", "assert_run_python_script_without_output"),
        ("builtins", "exec"),
        ("sklearn.linear_model._logistic", "LogisticRegression.__init__"),
        ("numpyx", "ndarray"),  # a prefix look-alike
    ],
)
def test_a_call_hidden_in_a_real_pipeline_is_refused(
    tmp_path: Path, module: str, name: str
) -> None:
    marker = tmp_path / "PWNED"
    data = rewrite(pipeline_bytes(), hidden_call(module, name, [f"open({str(marker)!r}, 'w')"]))
    problems, trusted = skopsfile.judge(data)
    assert problems
    assert trusted == []
    path = tmp_path / "m.skops"
    path.write_bytes(data)
    with pytest.raises(UnsafeModelError, match="refused"):
        formats.load(path)
    assert not marker.exists()


def test_methods_and_unknown_loaders_are_judged() -> None:
    def method(schema: dict[str, Any]) -> None:
        obj = schema["content"]["content"]["steps"]["content"][0]["content"][1]
        schema["content"]["content"]["extra"] = {
            "__class__": obj["__class__"],
            "__module__": obj["__module__"],
            "__loader__": "MethodNode",
            "content": {"func": "__reduce_ex__", "obj": obj},
        }

    problems, _ = skopsfile.judge(rewrite(pipeline_bytes(), method))
    assert "StandardScaler.__reduce_ex__" in " ".join(problems)

    def unknown(schema: dict[str, Any]) -> None:
        schema["content"]["content"]["extra"] = {
            "__loader__": "PickleNode",
            "__module__": "builtins",
            "__class__": "dict",
        }

    problems, _ = skopsfile.judge(rewrite(pipeline_bytes(), unknown))
    assert "does not know" in " ".join(problems)


@pytest.mark.parametrize(
    "name", ["../evil.py", "/etc/cron.d/x", "a/../../b", "c:\\x", "..\\x", "a/b/../../../c"]
)
def test_members_outside_the_archive_are_refused(name: str) -> None:
    problems, _ = skopsfile.judge(rewrite(pipeline_bytes(), extra={name: b"x"}))
    assert "zip-slip" in " ".join(problems)


def test_zip_bombs_and_broken_archives_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = rewrite(pipeline_bytes(), extra={"zeros.npy": bytes(4 << 20)})
    monkeypatch.setattr(skopsfile, "MAX_UNPACKED", 1 << 20)
    assert "zip bomb" in " ".join(skopsfile.judge(bomb)[0])
    assert "not a zip" in " ".join(skopsfile.judge(b"\x80\x04N.")[0])
    assert skopsfile.judge(pipeline_bytes()[:200])[0]
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("other.json", "{}")
    assert "no schema.json" in " ".join(skopsfile.judge(empty.getvalue())[0])


def test_trusted_types_extend_skops_exactly(tmp_path: Path) -> None:
    def custom(schema: dict[str, Any]) -> None:
        schema["content"]["content"]["extra"] = {
            "__class__": "Net",
            "__module__": "my_models",
            "__loader__": "ObjectNode",
        }

    data = rewrite(pipeline_bytes(), custom)
    assert skopsfile.judge(data)[0]
    assert skopsfile.judge(data, ["my_models.Net"])[0] == []
    assert skopsfile.judge(data, ["my_models.Other"])[0]


def test_skops_imported_without_its_estimator_list_is_stricter_and_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import sklearn.utils
    import skops

    everything = sklearn.utils.all_estimators
    monkeypatch.setattr(skops, "io", sio)  # the fresh import rebinds it; put back afterwards
    for name in [n for n in sys.modules if n == "skops.io" or n.startswith("skops.io.")]:
        monkeypatch.delitem(sys.modules, name)
    fresh = skopsfile.skops_io()
    assert fresh is not sio
    assert sklearn.utils.all_estimators is everything  # put back for everyone else
    data = pipeline_bytes()
    # skops trusts no estimator by default now: it reports them, each on mlgate's list.
    problems, trusted = skopsfile.judge(data)
    assert problems == []
    assert "sklearn.linear_model._logistic.LogisticRegression" in trusted
    path = tmp_path / "m.skops"
    path.write_bytes(data)
    assert formats.load(path).predict(X).shape == (40,)


def test_the_scan_judges_statically_and_loading_adds_skops_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose names are all on the list but which skops's own audit refuses (a protocol
    this skops does not have, a node it cannot read) passes the scan and is refused when it
    is loaded, before skops builds anything."""
    from mlgate.scan import scan_file

    def protocol(schema: dict[str, Any]) -> None:
        schema["protocol"] = 999

    def unreadable(schema: dict[str, Any]) -> None:
        schema["content"]["content"]["extra"] = {
            "__class__": "ndarray",
            "__module__": "numpy",
            "__loader__": "NdArrayNode",
            "content": {"file": "missing.npy"},
        }

    def built(*_: object, **__: object) -> None:
        raise AssertionError("skops built a refused file")

    monkeypatch.setattr(sio, "loads", built)
    for edit in (protocol, unreadable):
        path = tmp_path / f"{edit.__name__}.skops"
        path.write_bytes(rewrite(pipeline_bytes(), edit))
        check = scan_file(path, path.name)
        assert check.status.value == "pass", check.message
        assert "sklearn.pipeline.Pipeline" in check.details["names"]
        with pytest.raises(UnsafeModelError, match="not a valid skops file"):
            formats.load(path)


def test_an_aliased_module_passes_skops_only_where_it_is_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # skops imports modules by the file's names: `_loss` (scikit-learn 1.7) must already be
    # sklearn._loss._loss, or skops would find whatever `_loss` sys.path holds.
    from sklearn._loss import _loss
    from sklearn.ensemble import HistGradientBoostingClassifier

    with warnings.catch_warnings():  # loky counts physical cores with a process (guarded)
        warnings.simplefilter("ignore")
        model = HistGradientBoostingClassifier(max_iter=2).fit(X, Y)

    def bare(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("__module__") == "sklearn._loss._loss":
                node["__module__"] = "_loss"
            for value in node.values():
                bare(value)
        elif isinstance(node, list):
            for value in node:
                bare(value)

    data = rewrite(bytes(sio.dumps(model)), bare)
    assert b'"_loss"' in zipfile.ZipFile(io.BytesIO(data)).read("schema.json")
    monkeypatch.delitem(sys.modules, "_loss", raising=False)
    problems, trusted = skopsfile.judge(data)
    assert "_loss is the name an older release gave sklearn._loss._loss" in " ".join(problems)
    assert trusted == []
    monkeypatch.setitem(sys.modules, "_loss", _loss)
    problems, trusted = skopsfile.judge(data)
    assert problems == []
    assert type(sio.loads(data, trusted=trusted).predict(X)) is np.ndarray
