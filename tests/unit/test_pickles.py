"""The static pickle judgement (exact allow-list, symbolic walk) and the restricted loader."""

from __future__ import annotations

import io
import pickle
import pickletools
import sys
import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures

from mlgate.safety import allowlist, containers
from mlgate.safety.judge import judge_bytes
from mlgate.safety.loaders import RefusedGlobal, restricted_load
from mlgate.safety.picklewalk import Refused, walk

X = np.random.default_rng(0).random((40, 3))
Y = np.arange(40) % 2


def models() -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            make_pipeline(
                FunctionTransformer(np.log1p), PolynomialFeatures(), LogisticRegression()
            ).fit(X, Y),
            HistGradientBoostingClassifier(max_iter=3).fit(X, Y),
            KNeighborsClassifier(2, algorithm="kd_tree").fit(X, Y),
            CalibratedClassifierCV(LogisticRegression(), cv=2).fit(X, Y),
            IsolationForest(n_estimators=3).fit(X),
        ]


def joblib_bytes(obj: Any, compress: Any = 0) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(obj, buffer, compress=compress)
    return buffer.getvalue()


class _Call:
    def __init__(self, *call: Any) -> None:
        self.call = call

    def __reduce__(self) -> tuple[Any, ...]:
        return self.call[0], self.call[1:]


@pytest.mark.parametrize("protocol", range(6))
def test_real_models_pass_and_load_in_every_protocol(protocol: int) -> None:
    for model in models():
        data = pickle.dumps(model, protocol)
        judgement = judge_bytes(data, "pickle")
        assert judgement.problems == (), type(model)
        assert judgement.payload is not None
        loaded = restricted_load(judgement.payload, "pickle")
        assert (loaded.predict(X) == model.predict(X)).all()


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)])
def test_real_joblib_files_pass_and_load(compress: Any) -> None:
    for model in models():
        judgement = judge_bytes(joblib_bytes(model, compress), "joblib")
        assert judgement.problems == (), type(model)
        assert judgement.payload is not None
        loaded = restricted_load(judgement.payload, "joblib")
        assert (loaded.predict(X) == model.predict(X)).all()


def test_joblib_object_arrays_are_walked_and_loaded() -> None:
    values = np.array([1, "a", None], dtype=object)
    judgement = judge_bytes(joblib_bytes({"v": values, "after": np.arange(3.0)}), "joblib")
    assert judgement.problems == ()
    assert judgement.payload is not None
    loaded = restricted_load(judgement.payload, "joblib")
    assert list(loaded["v"]) == [1, "a", None]
    assert list(loaded["after"]) == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("posix", "system"),
        ("numpy.testing._private.utils", "runstring"),
        ("numpy", "memmap"),
        ("numpy", "load"),
        ("joblib.numpy_pickle", "load"),
        ("scipy.io", "FortranFile"),
        ("numpy.random.mtrand", "np.f2py.subprocess.Popen"),  # a dotted chain to Popen
        ("sklearn.base", "BaseEstimator.__init__.__globals__"),
        ("sklearn.linear_model", "LogisticRegression"),  # the public alias is not the name
        ("numpy", "no_such_name"),
    ],
)
def test_names_off_the_list_are_refused_exactly(module: str, name: str) -> None:
    text = f"c{module}\n{name}\n)R.".encode()
    encoded = (module.encode(), name.encode())
    stack_global = b"\x80\x04\x8c%c%s\x8c%c%s\x93)R." % (
        len(encoded[0]),
        encoded[0],
        len(encoded[1]),
        encoded[1],
    )
    for stream in (text, stack_global):
        judgement = judge_bytes(stream, "pickle")
        assert judgement.problems
        assert judgement.payload is None
    assert not allowlist.default().allows(module, name, "call")


def test_a_referenced_function_may_not_be_called() -> None:
    # numpy.log1p is on the list as a reference (FunctionTransformer's func), not as a call.
    data = pickle.dumps(_Call(np.log1p, 1.0))
    assert "numpy.log1p is called" in " ".join(judge_bytes(data, "pickle").problems)
    assert judge_bytes(pickle.dumps(np.log1p), "pickle").problems == ()


def test_a_name_computed_while_loading_is_refused() -> None:
    # STACK_GLOBAL whose module string comes from calling _codecs.encode (on the list).
    data = (
        b"\x80\x04\x8c\x07_codecs\x8c\x06encode\x93\x8c\x05posix\x8c\x06latin1\x86R"
        b"\x8c\x06system\x93\x8c\x01x\x85R."
    )
    with pytest.raises(Refused, match="not a plain string"):
        walk(data)


def test_memoised_and_duplicated_strings_are_followed() -> None:
    data = b"\x80\x04\x8c\x05posix\x94\x8c\x06system\x94h\x00h\x01\x93\x8c\x01x\x85R."
    refs = walk(data)
    assert ("posix", "system", "call") in {(r.module, r.name, r.use) for r in refs}


def test_protocol_2_names_are_judged_as_the_unpickler_resolves_them() -> None:
    data = b"\x80\x02c__builtin__\neval\nq\x00X\x01\x00\x00\x001\x85R."
    assert ("builtins", "eval") in {(r.module, r.name) for r in walk(data)}
    assert judge_bytes(data, "pickle").problems


def test_every_stream_of_a_concatenation_is_judged() -> None:
    data = pickle.dumps(LogisticRegression()) + b"cposix\nsystem\n(S'true'\ntR."
    assert any("system" in p for p in judge_bytes(data, "pickle").problems)
    with pytest.raises(Refused, match="malformed"):
        walk(pickle.dumps(1) + b"garbage")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x04K\x01",  # no STOP
        b"\x80\x04Q.",  # BINPERSID
        b"\x80\x02\x82\x01.",  # EXT1
        b"\x80\x05\x97.",  # NEXT_BUFFER
        b"\x80\x04h\x05.",  # a memo slot never set
        b"\x80\x04K\x01K\x02R.",  # REDUCE on a constant
        b"\x80\x06N.",  # protocol 6
    ],
)
def test_streams_that_cannot_be_judged_are_refused(data: bytes) -> None:
    with pytest.raises(Refused):
        walk(data)


def test_a_call_after_joblib_array_bytes_is_seen_and_refused() -> None:
    data = joblib_bytes([np.arange(2048.0), _Call(eval, "1 + 1")])
    assert ("builtins", "eval") in {(r.module, r.name) for r in walk(data, joblib=True)}
    assert judge_bytes(data, "joblib").problems
    with pytest.raises(RefusedGlobal):  # the second wall, even without the first
        restricted_load(data, "joblib")


def test_joblib_layout_tricks_are_refused() -> None:
    data = joblib_bytes([np.arange(10.0)])
    with pytest.raises(Refused):
        walk(data[: len(data) // 2], joblib=True)
    # The same file judged as a plain pickle: the wrapper means the bytes after it differ.
    assert judge_bytes(data, "pickle").problems
    with pytest.raises(RefusedGlobal):
        restricted_load(data, "pickle")


def test_a_joblib_wrapper_inside_a_frame_with_bytes_after_it_is_refused() -> None:
    data = joblib_bytes(np.arange(4.0))
    ops: list[tuple[str, int]] = []
    for op, _, pos in pickletools.genops(data):  # up to the wrapper's BUILD: array bytes follow
        assert pos is not None  # genops over bytes knows every position
        ops.append((op.name, pos))
        if op.name == "BUILD":
            break
    frame = next(pos for name, pos in ops if name == "FRAME")
    build = ops[-1][1]
    # Widen the wrapper's frame so that it also covers the bytes joblib reads as the array.
    size = int.from_bytes(data[frame + 1 : frame + 9], "little") + 10
    hostile = data[: frame + 1] + size.to_bytes(8, "little") + data[frame + 9 :]
    assert build < frame + 9 + size
    with pytest.raises(Refused, match="frame"):
        walk(hostile, joblib=True)


def test_decompression_is_bounded() -> None:
    bomb = joblib_bytes(np.zeros(1 << 20), compress=3)
    with pytest.raises(Refused, match="more than 1000 bytes"):
        containers.decompress(bomb, "zlib", limit=1000)
    assert len(containers.decompress(bomb, "zlib")) > 8 << 20
    with pytest.raises(Refused, match=r"truncated|corrupt"):
        containers.decompress(bomb[:100], "zlib")
    lz4 = b"\x04\x22\x4d\x18" + bomb
    assert "lz4" in " ".join(judge_bytes(lz4, "joblib").problems)


def test_trusted_types_add_exact_names_but_not_the_standard_library() -> None:
    data = b"\x80\x04\x8c\tmy_models\x8c\x03Net\x93)\x81."
    assert judge_bytes(data, "pickle").problems
    assert judge_bytes(data, "pickle", ["my_models.Net"]).problems == ()
    assert judge_bytes(data, "pickle", ["my_models.Other"]).problems
    assert allowlist.trusted_type_problem("os.system")
    assert allowlist.trusted_type_problem("builtins.exec")
    assert allowlist.trusted_type_problem("numpy.testing._private.utils.runstring")
    assert allowlist.trusted_type_problem("my_models.Net") is None
    assert allowlist.parse_trusted("pkg.mod:Outer.Inner") == ("pkg.mod", "Outer.Inner")
    system = b"cposix\nsystem\n(S'true'\ntR."
    assert judge_bytes(system, "pickle", ["posix.system"]).problems


def test_an_aliased_module_is_resolved_as_its_real_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # scikit-learn 1.7's Cython losses pickle as `_loss.CyHalfBinomialLoss`; the loader imports
    # sklearn._loss._loss, never a bare `_loss` from sys.path (here a file that must not run).
    from sklearn._loss import _loss

    assert allowlist.default().real_module("_loss") == "sklearn._loss._loss"
    (tmp_path / "_loss.py").write_text("raise AssertionError('imported from sys.path')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "_loss", raising=False)
    for data in (b"c_loss\nCyHalfBinomialLoss\n)R.", b"\x80\x02c_loss\nCyHalfSquaredError\n)R."):
        judgement = judge_bytes(data, "pickle")
        assert judgement.problems == ()
        assert judgement.payload is not None
        loaded = restricted_load(judgement.payload, "pickle")
        assert type(loaded).__name__ in ("CyHalfBinomialLoss", "CyHalfSquaredError")
        assert type(loaded) is getattr(_loss, type(loaded).__name__)
    assert "_loss" not in sys.modules or sys.modules["_loss"] is _loss
