"""mlgate scan decides by content: suffixes never make a file skipped or trusted."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import joblib
import numpy as np
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from mlgate.formats import sniff
from mlgate.scan import ScanRequest, scan
from mlgate.verdict import Status

SYSTEM_P0 = b"cposix\nsystem\n(S'true'\ntR."
SYSTEM_NO_HEADER = b"\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R."


def model() -> LogisticRegression:
    return LogisticRegression().fit(np.arange(40.0).reshape(20, 2), np.arange(20) % 2)


def statuses(tmp_path: Path, *names: str) -> dict[str, Status]:
    verdict = scan(ScanRequest(tuple(tmp_path / n for n in names)))
    return {c.id.rsplit("/", 1)[-1]: c.status for c in verdict.checks}


def test_named_files_are_judged_by_content_whatever_their_suffix(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(pickle.dumps(model()))
    buffer = io.BytesIO()
    joblib.dump(model(), buffer, compress=3)
    (tmp_path / "model.pt").write_bytes(buffer.getvalue())
    (tmp_path / "model.dat").write_bytes(bytes(sio.dumps(model())))
    (tmp_path / "evil.pt").write_bytes(SYSTEM_P0)
    (tmp_path / "evil.bin").write_bytes(SYSTEM_NO_HEADER)
    (tmp_path / "evil.txt").write_bytes(SYSTEM_P0)
    (tmp_path / "notes.txt").write_text("not a model")
    found = statuses(
        tmp_path, "model.bin", "model.pt", "model.dat", "evil.pt", "evil.bin", "evil.txt"
    )
    assert found == {
        "model.bin": Status.PASS,
        "model.pt": Status.PASS,
        "model.dat": Status.PASS,
        "evil.pt": Status.FAIL,
        "evil.bin": Status.FAIL,
        "evil.txt": Status.FAIL,
    }
    assert statuses(tmp_path, "notes.txt") == {"notes.txt": Status.FAIL}


def test_folders_include_pickles_and_model_archives_by_content(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(pickle.dumps({"w": [1.0]}, protocol=4))
    (tmp_path / "evil.ckpt").write_bytes(pickle.dumps({"w": 1}, protocol=2) + SYSTEM_P0)
    (tmp_path / "checkpoint.pt").write_bytes(b"PK\x03\x04" + bytes(40))
    (tmp_path / "notes.txt").write_text("not a model")
    verdict = scan(ScanRequest((tmp_path,)))
    found = {c.id.rsplit("/", 1)[-1]: c.status for c in verdict.checks}
    assert found == {
        "weights.bin": Status.PASS,
        "evil.ckpt": Status.FAIL,
        "checkpoint.pt": Status.FAIL,
    }


def test_sniffing() -> None:
    assert sniff.kind(b"PK\x03\x04rest") == "zip"
    assert sniff.kind(pickle.dumps(1, protocol=2)) == "pickle"
    assert sniff.kind(b"\x1f\x8b\x08") == "joblib"
    assert sniff.kind(b"hello") is None
    buffer = io.BytesIO()
    joblib.dump(np.arange(3.0), buffer)
    assert sniff.pickle_family(buffer.getvalue()) == "joblib"
    assert sniff.pickle_family(pickle.dumps(np.arange(3.0))) == "pickle"
