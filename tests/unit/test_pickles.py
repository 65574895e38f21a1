"""The import policy for trusted pickle/joblib files, and the dry run that scans them."""

from __future__ import annotations

import io
import pickle
import warnings
from typing import Any

import joblib
import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RandomizedSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures

from mlgate.modelio import scan_pickle
from mlgate.pickles import RefusedGlobal, list_globals, refusal, restricted_load

X = np.random.default_rng(0).random((40, 3))
Y = np.arange(40) % 2


def models() -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            make_pipeline(
                FunctionTransformer(np.log1p), PolynomialFeatures(), LogisticRegression()
            ),
            HistGradientBoostingClassifier(max_iter=3),
            KNeighborsClassifier(2, algorithm="kd_tree"),
            CalibratedClassifierCV(LogisticRegression(), cv=2),
            RandomizedSearchCV(LogisticRegression(), {"C": loguniform(0.1, 10)}, n_iter=2, cv=2),
            IsolationForest(n_estimators=3),
        ]


def dumps(obj: Any, how: str) -> bytes:
    if how == "pickle":
        return pickle.dumps(obj)
    buffer = io.BytesIO()
    joblib.dump(obj, buffer, compress=3 if how == "joblib-compressed" else 0)
    return buffer.getvalue()


@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib-compressed"])
def test_real_models_scan_clean_and_load(how: str) -> None:
    for model in models():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = model.fit(X, Y)
        data = dumps(fitted, how)
        scan = scan_pickle(data)
        assert (scan.dangerous, scan.unknown, scan.incomplete) == ((), (), None), type(model)
        assert type(restricted_load(data)) is type(fitted)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("posix", "system"),
        ("numpy.testing._private.utils", "runstring"),
        ("numpy", "memmap"),
        ("numpy", "load"),
        ("numpy", "fromfile"),
        ("joblib.numpy_pickle", "load"),
        ("joblib.numpy_pickle", "NDArrayWrapper"),
        ("scipy.io", "FortranFile"),
        ("numpy.ctypeslib", "load_library"),
        ("sklearn.utils._testing", "TempMemmap"),
        ("sklearn.utils", "check_random_state"),
        ("numpy", "no_such_name"),
    ],
)
def test_refused_globals(module: str, name: str) -> None:
    assert refusal(module, name) is not None


def test_a_short_name_the_stack_registers_is_checked_as_the_real_module() -> None:
    # scikit-learn 1.7 pickles HistGradientBoosting's loss as ``_loss.CyHalfBinomialLoss``.
    data = b"\x80\x04\x8c\x05_loss\x94\x8c\x12CyHalfBinomialLoss\x94\x93\x94)R\x94."
    scan = scan_pickle(data)
    assert (scan.dangerous, scan.unknown) == ((), ())
    assert type(restricted_load(data)).__name__ == "CyHalfBinomialLoss"
    assert refusal("_loss", "no_such_loss") is not None
    assert refusal("_loss", "__builtins__") is not None


def test_trusted_types_are_allowed() -> None:
    assert refusal("my_models", "Net") is not None
    assert refusal("my_models", "Net", ("my_models.Net",)) is None


class _Call:
    def __init__(self, *call: Any) -> None:
        self.call = call

    def __reduce__(self) -> tuple[Any, ...]:
        return self.call[0], self.call[1:]


def test_a_call_after_joblib_array_bytes_is_seen_and_refused() -> None:
    data = dumps([np.arange(2048.0), _Call(eval, "1 + 1")], "joblib")
    seen, incomplete = list_globals(data)
    assert incomplete is None
    assert ("builtins", "eval") in seen
    assert scan_pickle(data).dangerous
    with pytest.raises(RefusedGlobal):
        restricted_load(data)


def test_a_stream_the_dry_run_cannot_follow_is_reported() -> None:
    data = dumps([np.arange(10.0)], "joblib")
    seen, incomplete = list_globals(data[: len(data) // 2])
    assert incomplete is not None
    assert seen
