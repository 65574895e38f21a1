from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mlgate import formats
from mlgate.errors import ConfigError
from mlgate.modelio import UnsafeModelError, save_model, scan_pickle

# What pickle.dumps of an object whose __reduce__ returns (os.system, (cmd,)) contains, written
# out by hand: protocol 0 (GLOBAL) and protocol 4 (STACK_GLOBAL with memoised strings).
EXPLOITS = (
    b"cos\nsystem\n(S'touch /tmp/mlgate-pwned'\ntR.",
    (
        b"\x80\x04\x95\x2b\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93"
        b"\x94\x8c\x17touch /tmp/mlgate-pwned\x94\x85\x94R\x94."
    ),
)


def fitted() -> LogisticRegression:
    x = np.arange(40, dtype=float).reshape(20, 2)
    return LogisticRegression().fit(x, np.arange(20) % 2)


def test_skops_round_trip(tmp_path: Path) -> None:
    model = fitted()
    path = save_model(model, tmp_path / "m.skops")
    loaded = formats.load(path)
    assert (loaded.predict([[1.0, 2.0]]) == model.predict([[1.0, 2.0]])).all()


def test_malicious_pickle_is_refused_without_loading(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    for exploit in EXPLOITS:
        path.write_bytes(exploit)
        for trusted in (False, True):
            with pytest.raises(UnsafeModelError, match=r"does not unpickle|refused") as info:
                formats.load(path, fmt="pickle", trusted=trusted)
            text = info.value.render()
            assert "posix.system" in text or "os.system" in text
            assert info.value.exit_code == 1
    assert not Path("/tmp/mlgate-pwned").exists()


def test_untrusted_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(fitted()))
    with pytest.raises(UnsafeModelError, match="does not unpickle"):
        formats.load(path, fmt="pickle")
    assert formats.load(path, fmt="pickle", trusted=True).predict([[0.0, 1.0]]).shape == (1,)


def test_scan_reports_globals() -> None:
    scan = scan_pickle(pickle.dumps(fitted()))
    assert any(g.startswith("sklearn.linear_model") for g in scan.names)
    assert scan.problems == ()


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        formats.load(tmp_path / "nope.skops")
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="not a valid skops file"):
        formats.load(bad)
