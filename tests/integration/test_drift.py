"""``mlgate drift``: project defaults, files on the command line, cache, errors; and agreement of
its decisions with Evidently's defaults (run in Evidently's own environment)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlgate import proc
from mlgate.cli import entry
from mlgate.gates.drift.engine import compare_frames
from tests.conftest import invoke

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "bench" / "drift_runner.py"
# Read at import: the autouse fixture clears CI from the environment of each test.
IN_CI = os.environ.get("CI") == "true"


def evidently_python() -> Path | None:
    explicit = os.environ.get("EVIDENTLY_PYTHON")
    candidate = Path(explicit) if explicit else REPO / "bench/work/evidently-venv/bin/python"
    return candidate if candidate.exists() else None


def shifted(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = frame.copy()
    out["tenure_months"] = out["tenure_months"] + rng.integers(10, 30, len(out))
    out["contract"] = np.where(rng.random(len(out)) < 0.6, "monthly", out["contract"])
    return out


def test_project_defaults_train_against_eval_with_cache(starter: Path) -> None:
    first = invoke("drift", cwd=starter)
    assert first.exit_code == 0, first.output
    assert "drift of churn: PASS" in first.stdout
    assert "drift.column.tenure_months" in first.stdout
    assert "gender" not in first.stdout  # sensitive: not a feature
    assert (starter / ".mlgate/out/churn/drift.json").is_file()
    assert list((starter / ".mlgate/cache/drift").glob("*.npz"))
    second = invoke("drift", "--json", cwd=starter)
    data = json.loads(second.stdout)
    assert "reference summaries read from the cache" in data["notes"]

    def scores(out: dict[str, Any]) -> list[object]:
        return [c["observed"] for c in out["checks"]]

    assert scores(data) == scores(
        json.loads(invoke("drift", "--json", "--no-cache", cwd=starter).stdout)
    )


def test_files_on_the_command_line_outside_a_project(starter: Path, tmp_path: Path) -> None:
    data = starter / "models/churn/data"
    current = tmp_path / "current.parquet"
    shifted(pd.read_csv(data / "eval.csv")).to_parquet(current)
    result = invoke(
        "drift",
        "--reference",
        str(data / "train.csv"),
        "--current",
        str(current),
        "--max-drifted-share",
        "0.2",
        "--json",
        cwd=tmp_path,
    )
    assert result.exit_code == 1, result.output
    verdict = json.loads(result.stdout)
    status = {c["id"]: c["status"] for c in verdict["checks"]}
    assert status["drift.column.tenure_months"] == "warn"
    assert status["drift.column.contract"] == "warn"
    assert status["drift.column.gender"] == "pass"  # no project: every column is tested
    assert status["drift.dataset"] == "fail"
    assert verdict["written"] == ""
    assert not (tmp_path / ".mlgate").exists()


def test_two_files_inside_a_project_use_its_cache_and_none_of_its_settings(
    starter: Path,
) -> None:
    data = starter / "models/churn/data"
    files = ["--reference", str(data / "train.csv"), "--current", str(data / "eval.csv")]
    # The comparison of two files takes nothing from mlgate.yaml (not even its validity).
    config = starter / "mlgate.yaml"
    config.write_text(config.read_text() + "not_a_key: 1\n")
    first = invoke("drift", *files, "--json", cwd=starter / "models")
    assert first.exit_code == 0, first.output
    assert list((starter / ".mlgate/cache/drift").glob("*.npz"))
    second = json.loads(invoke("drift", *files, "--json", cwd=starter / "models").stdout)
    assert "reference summaries read from the cache" in second["notes"]
    assert "drift.column.gender" in {c["id"] for c in second["checks"]}  # every column
    assert invoke("drift", *files, "--model", "churn", cwd=starter).exit_code == 2


def test_quick_drift_prints_what_the_click_command_prints(starter: Path, tmp_path: Path) -> None:
    """`drift --reference R --current C [--no-cache] --json` skips click; the same output."""
    data = starter / "models/churn/data"
    current = tmp_path / "current.parquet"
    shifted(pd.read_csv(data / "eval.csv")).to_parquet(current)
    files = ["--reference", str(data / "train.csv"), "--current", str(current)]
    invoke("drift", *files, "--json", cwd=starter)  # the project's cache holds the reference
    for cwd, extra in ((starter, ["--no-cache"]), (starter, []), (tmp_path, [])):
        args = ["drift", *files, *extra, "--json"]
        quick = proc.run([sys.executable, "-m", "mlgate", *args], cwd=cwd, check=False)
        full = invoke(*args, cwd=cwd)
        assert (quick.returncode, quick.stdout, quick.stderr) == (
            full.exit_code,
            full.stdout,
            full.stderr,
        ), (cwd, extra)
        hit = "reference summaries read from the cache" in full.stdout
        assert hit == (cwd == starter and not extra)
    # Not that form, or an error: the click command runs and reports it.
    assert entry._quick_drift([*files, "--json", "--columns", "age"]) is None
    assert entry._quick_drift([*files]) is None  # text output is click's
    (tmp_path / "empty.csv").write_text("")
    bad = ["--reference", str(tmp_path / "empty.csv"), "--current", str(current), "--json"]
    assert entry._quick_drift(bad) is None
    failed = proc.run([sys.executable, "-m", "mlgate", "drift", *bad], cwd=tmp_path, check=False)
    assert failed.returncode == 2
    assert "file is empty" in failed.stderr


def test_column_and_method_mistakes_are_usage_errors(starter: Path) -> None:
    unknown = invoke("drift", "--columns", "tenure,age", cwd=starter)
    assert unknown.exit_code == 2
    assert "column 'tenure' is not in the reference data" in unknown.stderr
    assert "did you mean 'tenure_months'?" in unknown.stderr
    bad_test = invoke("drift", "--method", "age=kss", cwd=starter)
    assert bad_test.exit_code == 2
    assert "unknown drift test 'kss' for column 'age'" in bad_test.stderr
    wrong_kind = invoke("drift", "--method", "plan=wasserstein", cwd=starter)
    assert wrong_kind.exit_code == 2
    assert "does not apply to column 'plan', which is categorical" in wrong_kind.stderr
    syntax = invoke("drift", "--method", "plan", cwd=starter)
    assert syntax.exit_code == 2
    assert "expected COLUMN=TEST" in syntax.output


def test_without_a_project_both_files_are_needed(tmp_path: Path) -> None:
    result = invoke("drift", cwd=tmp_path)
    assert result.exit_code == 2
    assert "drift needs --reference and --current" in result.stderr


def agreement_case(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Columns of every kind, drift injected in some, missing values in one."""
    rng = np.random.default_rng(seed)

    def make(current: bool) -> pd.DataFrame:
        shift = 1.0 if current else 0.0
        frame = pd.DataFrame(
            {
                "steady": rng.normal(0, 1, rows),
                "moved": rng.normal(0.4 * shift, 1, rows),
                "scaled": rng.gamma(2, 2 + 1.5 * shift, rows),
                "slight": rng.normal(0.02 * shift, 1, rows),
                "few_ints": rng.choice(
                    6, rows, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1][:: 1 - 2 * int(shift)]
                ),
                "many_ints": rng.integers(0, 40 + int(25 * shift), rows),
                "plan": rng.choice(["basic", "pro", "team"], rows, p=[0.5, 0.3, 0.2]),
                "region": rng.choice(
                    ["n", "s", "e", "w"],
                    rows,
                    p=[0.1, 0.2, 0.3, 0.4] if current else [0.4, 0.3, 0.2, 0.1],
                ),
                "binary": rng.choice(
                    ["yes", "no"], rows, p=[0.35 + 0.2 * shift, 0.65 - 0.2 * shift]
                ),
                "flag": rng.random(rows) < 0.5,
            }
        )
        frame.loc[rng.random(rows) < 0.07, "steady"] = np.nan
        return frame

    return make(current=False), make(current=True)


@pytest.mark.parametrize("rows", [600, 5000])
def test_decisions_agree_with_evidently_defaults(rows: int, tmp_path: Path) -> None:
    python = evidently_python()
    if python is None:
        if IN_CI:
            pytest.fail("Evidently's environment is missing; .ci/run creates it")
        pytest.skip("no Evidently environment (set EVIDENTLY_PYTHON, or run bench/drift.py once)")
    reference, current = agreement_case(rows, seed=rows)
    ref_path, cur_path = tmp_path / "reference.parquet", tmp_path / "current.parquet"
    reference.to_parquet(ref_path)
    current.to_parquet(cur_path)
    result = proc.run(
        [str(python), str(RUNNER), "evidently", str(ref_path), str(cur_path)],
        extra_env={"PYTHONWARNINGS": "ignore"},
        timeout=600,
    )
    theirs = json.loads(result.stdout.strip().splitlines()[-1])["columns"]
    mine = {c.column: c for c in compare_frames(reference, current).columns}
    assert set(theirs) == set(mine)
    for name, col in mine.items():
        assert col.drifted == theirs[name]["drifted"], (name, col, theirs[name])
        assert col.score == pytest.approx(theirs[name]["score"], rel=1e-6, abs=1e-9), name
    drifted = {n for n, c in mine.items() if c.drifted}
    assert {"moved", "scaled", "region"} <= drifted
    assert "plan" not in drifted


def test_bad_inputs_through_the_cli_are_named_not_internal_errors(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)

    def table(n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "x": rng.normal(size=n),
                "tags": [["a", "b"][: i % 3] for i in range(n)],
                "day": pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
            }
        )

    table(300).to_parquet(tmp_path / "ref.parquet")
    table(1).to_parquet(tmp_path / "cur.parquet")
    out = invoke(
        "drift", "--reference", "ref.parquet", "--current", "cur.parquet", "--verbose", cwd=tmp_path
    )
    assert out.exit_code == 0, out.output
    assert "internal error" not in out.output
    assert "nested column" in out.stdout
    assert "datetime column" in out.stdout
    assert "current data has 1 row" in out.stdout


_BLAS_PROBE = """
import json, os
from mlgate.cli.entry import BLAS_THREADS, numpy_without_blas_threads
numpy_without_blas_threads()
from threadpoolctl import threadpool_info
blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
print(json.dumps({"blas": blas, "env": {n: os.environ.get(n) for n in BLAS_THREADS}}))
"""


@pytest.mark.parametrize("chosen", [None, "2"])
def test_drift_loads_numpy_with_one_blas_thread_unless_the_user_chose(chosen: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k not in entry.BLAS_THREADS}
    if chosen is not None:
        env["OPENBLAS_NUM_THREADS"] = chosen
    done = proc.run([sys.executable, "-c", _BLAS_PROBE], env=env, check=True)
    found = json.loads(done.stdout)
    assert found["blas"], "NumPy's BLAS was not found"
    assert found["blas"] == [int(chosen or 1)] * len(found["blas"])
    # Nothing the function set is left for processes started later; the user's value stays.
    assert found["env"] == {
        "OPENBLAS_NUM_THREADS": chosen,
        "OMP_NUM_THREADS": None,
        "MKL_NUM_THREADS": None,
    }
