"""Security: a malicious pickle in a pull request is never executed, whatever the pull request's
mlgate.yaml says about trusting it, through ``mlgate scan``, ``validate`` and ``check``.

Each exploit creates a marker file when unpickled. The pull request marks the model file
``trusted: true`` (it controls mlgate.yaml too), so only the loader's own checks stand between
the file and the unpickler.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from numpy.testing._private.utils import runstring
from scipy.io import FortranFile

from mlgate import formats, gitio
from tests.conftest import invoke


class Reduce:
    """An object that pickles as ``func(*args)``: what an attacker's pickle calls on load."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.func, self.args


def exploits(marker: Path) -> dict[str, bytes]:
    """Name -> file content; each writes ``marker`` (or a sibling) if it is ever unpickled."""
    touch = f"touch {marker}"
    inner = marker.parent / "inner.pkl"
    inner.write_bytes(pickle.dumps(Reduce(os.system, touch)))
    out: dict[str, bytes] = {
        "os.system, protocol 0": pickle.dumps(Reduce(os.system, touch), protocol=0),
        "os.system, protocol 4 (STACK_GLOBAL)": pickle.dumps(Reduce(os.system, touch)),
        "builtins.eval": pickle.dumps(Reduce(builtins.eval, f"open({str(marker)!r}, 'w')")),
        "numpy.testing runstring (exec inside numpy)": pickle.dumps(
            Reduce(runstring, f"open({str(marker)!r}, 'w').close()", {})
        ),
        "joblib.numpy_pickle.load of another file": pickle.dumps(
            Reduce(joblib.numpy_pickle.load, str(inner))
        ),
        "numpy.memmap writing a file": pickle.dumps(
            Reduce(np.memmap, str(marker), "uint8", "w+", 0, (4,))
        ),
        "scipy.io.FortranFile writing a file": pickle.dumps(Reduce(FortranFile, str(marker), "w")),
    }
    for name, value in (
        ("after joblib's raw array bytes", [np.arange(4096.0), Reduce(os.system, touch)]),
        ("in a joblib object array", np.array([Reduce(os.system, touch)], dtype=object)),
    ):
        buffer = io.BytesIO()
        joblib.dump(value, buffer)
        out[f"os.system {name}"] = buffer.getvalue()
    buffer = io.BytesIO()
    joblib.dump(Reduce(os.system, touch), buffer, compress=3)
    out["os.system in a compressed joblib file"] = buffer.getvalue()
    return out


def trust_pickles(root: Path, name: str = "model.pkl") -> Path:
    """The pull request's mlgate.yaml: the model file is a pickle, marked trusted."""
    config = root / "mlgate.yaml"
    text = config.read_text()
    text = text.replace(
        "file: artifacts/model.skops", f"file: artifacts/{name}\n      trusted: true"
    )
    config.write_text(text)
    target = root / "models" / "churn" / "artifacts" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (root / ".git").exists():
        gitio.git(["init", "--quiet"], root)
        gitio.git(["add", "--all"], root)
        gitio.git(["commit", "--quiet", "-m", "pull request"], root)
    return target


MARKER_NAMES = re.compile(r"PWNED")


@pytest.mark.parametrize("fmt", ["pkl", "joblib"])
def test_malicious_model_files_are_never_unpickled(starter: Path, tmp_path: Path, fmt: str) -> None:
    marker = tmp_path / "PWNED"
    model = trust_pickles(starter, f"model.{fmt}")
    tried = 0
    for name, content in exploits(marker).items():
        model.write_bytes(content)
        scanned = invoke("scan", cwd=starter)
        assert scanned.exit_code == 1, (name, scanned.output)
        assert "must not be loaded" in scanned.output, (name, scanned.output)
        validated = invoke("validate", cwd=starter)
        assert validated.exit_code == 1, (name, validated.output)
        assert "refused" in validated.stderr, name
        checked = invoke("check", "--stage", "scan", "--stage", "validate", cwd=starter)
        assert checked.exit_code == 1, (name, checked.output)
        for outcome in (scanned, validated, checked):
            assert "internal error" not in outcome.output, (name, outcome.output)
        assert not marker.exists(), f"{name}: the pickle ran"
        tried += 1
    assert tried == 10
    assert not [p for p in tmp_path.rglob("*") if MARKER_NAMES.search(p.name)]


def test_a_champion_given_as_a_malicious_pickle_is_refused(starter: Path, tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    champion = tmp_path / "champion.pkl"
    champion.write_bytes(exploits(marker)["numpy.testing runstring (exec inside numpy)"])
    trust_pickles(starter, "model.pkl").write_bytes(b"")
    result = invoke("validate", "--champion", str(champion), cwd=starter)
    assert result.exit_code in (1, 2), result.output
    assert "internal error" not in result.output
    assert not marker.exists()


def test_a_real_trusted_joblib_model_still_loads(tmp_path: Path) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    import pandas as pd

    frame = pd.DataFrame({"a": rng.random(60), "b": ["x", "y", "z"] * 20})
    target = np.arange(60) % 2
    model = make_pipeline(
        ColumnTransformer([("n", StandardScaler(), ["a"]), ("c", OneHotEncoder(), ["b"])]),
        HistGradientBoostingClassifier(max_iter=3),
    ).fit(frame, target)
    for fmt, compress in (("joblib", 0), ("joblib", 3), ("pickle", 0)):
        path = tmp_path / f"model.{fmt}"
        if fmt == "pickle":
            path.write_bytes(pickle.dumps(model))
        else:
            joblib.dump(model, path, compress=compress)
        loaded: Callable[..., Any] = formats.load(path, fmt=fmt, trusted=True)
        assert (loaded.predict(frame) == model.predict(frame)).all()  # type: ignore[attr-defined]


HOSTILE_BRANCHES = (
    "feat/$(touch${IFS}PWNED1)",
    "x;touch${IFS}PWNED2",
    "`touch${IFS}PWNED3`",
    "q'\"|&>PWNED4",
)


@pytest.mark.parametrize("branch", HOSTILE_BRANCHES)
def test_branch_names_with_shell_metacharacters_are_data(
    starter: Path, tmp_path: Path, branch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real branch (git accepts these names) through plan, lock, check and the registry,
    with the PR title carrying the same text in the event payload: nothing executes."""
    import json

    from tests.actions_harness import pull_request_event

    gitio.git(["init", "--quiet", "--initial-branch=main"], starter)
    gitio.git(["add", "--all"], starter)
    gitio.git(["commit", "--quiet", "-m", "main"], starter)
    gitio.git(["checkout", "--quiet", "-b", branch], starter)
    params = starter / "models" / "churn" / "params.yaml"
    params.write_text(params.read_text() + "# tuned\n")
    gitio.git(["commit", "--quiet", "-am", branch], starter)
    event = tmp_path / "event.json"
    event.write_text(json.dumps(pull_request_event(title=branch, head_ref=branch)))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    outcomes = [
        invoke("plan", "--base", "main", "--json", cwd=starter),
        invoke("plan", "--base", branch, cwd=starter),
        invoke("lock", cwd=starter),
        invoke("check", "--base", "main", "--stage", "scan", cwd=starter),
        invoke("registry", "register", "churn", "--ref", branch, cwd=starter),
        invoke("registry", "next-version", "churn", cwd=starter),
        invoke("check", "--model", branch, cwd=starter),
        invoke("registry", "resolve", branch, cwd=starter),
    ]
    for outcome in outcomes:
        assert "internal error" not in outcome.output, outcome.output
    assert [o.exit_code for o in outcomes[:6]] == [0, 0, 0, 0, 0, 0], [o.output for o in outcomes]
    assert [o.exit_code for o in outcomes[6:]] == [2, 2]  # unknown model, bad reference
    assert "churn" in outcomes[0].stdout
    assert not list(tmp_path.rglob("PWNED*"))
    assert not list(Path.cwd().glob("PWNED*"))


def test_a_configured_model_is_judged_with_its_format_whatever_its_suffix(
    starter: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "PWNED"
    model = trust_pickles(starter, "model.bin")
    config = starter / "mlgate.yaml"
    config.write_text(
        config.read_text().replace("trusted: true", "trusted: true\n      format: pickle")
    )
    hostile = (
        f"\x8c\x05posix\x8c\x06system\x93\x8c{chr(len(f'touch {marker}'))}touch {marker}\x85R."
    )
    model.write_bytes(hostile.encode("latin-1"))
    scanned = invoke("scan", cwd=starter)
    assert scanned.exit_code == 1, scanned.output
    assert "posix.system" in scanned.output
    validated = invoke("validate", cwd=starter)
    assert validated.exit_code in (1, 2), validated.output
    assert not marker.exists()
    # Content of another format than the configured one fails, naming both.
    config.write_text(config.read_text().replace("format: pickle", "format: skops"))
    model.write_bytes(pickle.dumps({"w": 1}, protocol=4))
    scanned = invoke("scan", cwd=starter)
    assert scanned.exit_code == 1, scanned.output
    assert "is a pickle file but model.format says skops" in scanned.output


@pytest.mark.parametrize(
    "entry", ["os.system", "builtins.exec", "numpy.testing._private.utils.runstring", "x"]
)
def test_trusted_types_cannot_name_the_standard_library_or_the_stack(
    starter: Path, entry: str
) -> None:
    config = starter / "mlgate.yaml"
    config.write_text(
        config.read_text().replace(
            "task: binary-classification",
            f"task: binary-classification\n      trusted_types: [{entry}]",
        )
    )
    result = invoke("config", "check", cwd=starter)
    assert result.exit_code == 2, result.output
    assert "trusted_types" in result.stderr
