"""mlgate lock / repro / train end to end: real git repositories, real training processes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mlgate import gitio
from mlgate.repro.runs import read_record
from mlgate.verdict import read_verdict
from tests.conftest import invoke

MINI_YAML = """\
version: 1
models:
  - name: mini
    path: models/mini
    train:
      command: python train.py
      seed: 3
      params: [params.yaml]
      metrics: out/metrics.json
      outputs: [out/model.bin, out/metrics.json]
    data: {train: data/train.csv, eval: data/eval.csv, target: y}
    model: {file: out/model.bin, task: regression}
    repro: {mode: bitwise}
"""

# A stand-in for a training script, fast and dependency-free; params.yaml switches on faults.
MINI_TRAIN = """\
import hashlib, json, os, sys, time
from pathlib import Path

HERE = Path(__file__).parent
params = dict(
    line.split(": ", 1) for line in (HERE / "params.yaml").read_text().splitlines() if ": " in line
)
print("training mini with", sorted(params.items()))
if params.get("fail") == "yes":
    for i in range(30):
        print(f"log line {i}")
    print("ValueError: the data is bad", file=sys.stderr)
    sys.exit(4)
if params.get("sleep"):
    time.sleep(float(params["sleep"]))
if params.get("shared") == "yes":
    (HERE / "../../shared.txt").read_text()
data = (HERE / "data" / "train.csv").read_bytes()
noise = os.urandom(8).hex() if params.get("noise") == "yes" else ""
weights = hashlib.sha256(data + os.environ.get("MLGATE_SEED", "").encode() + noise.encode())
out = HERE / "out"
out.mkdir(exist_ok=True)
(out / "model.bin").write_text(weights.hexdigest())
(out / "metrics.json").write_text(json.dumps({"rmse": int(weights.hexdigest()[:4], 16) / 65536}))
print("done")
"""


def commit_all(repo: Path, message: str = "commit") -> None:
    gitio.git(["add", "--all"], repo)
    gitio.git(["commit", "--quiet", "--allow-empty", "-m", message], repo)


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A small model project in a git repository."""
    repo = tmp_path / "mini"
    model = repo / "models" / "mini"
    (model / "data").mkdir(parents=True)
    (repo / "mlgate.yaml").write_text(MINI_YAML)
    (repo / ".gitignore").write_text(".mlgate/cache/\n.mlgate/out/\n")
    (model / "train.py").write_text(MINI_TRAIN)
    (model / "params.yaml").write_text("alpha: 1\n")
    (model / "data" / "train.csv").write_text("x1,x2,y\n1,2,3\n4,5,6\n")
    (model / "data" / "eval.csv").write_text("x1,x2,y\n7,8,9\n")
    gitio.git(["init", "--quiet", "--initial-branch=main"], repo)
    commit_all(repo, "mini project")
    return repo


@pytest.fixture
def starter_repo(starter: Path) -> Path:
    gitio.git(["init", "--quiet", "--initial-branch=main"], starter)
    commit_all(starter, "starter")
    return starter


def set_param(repo: Path, line: str) -> None:
    params = repo / "models/mini/params.yaml"
    params.write_text(params.read_text() + line + "\n")


def tree_state(root: Path) -> dict[str, tuple[bytes, int]]:
    """Content and mtime of every user file (mlgate's own .mlgate/ and .git/ aside)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in {".git", ".mlgate"}
    }


# --- lock and check ---------------------------------------------------------------------------


def test_lock_then_check_then_a_data_change_is_caught(mini: Path) -> None:
    out = invoke("lock", cwd=mini)
    assert out.exit_code == 0, out.output
    assert "mlgate.lock: written" in out.stdout
    lock = mini / "mlgate.lock"
    locked = json.loads(lock.read_text())["models"]["mini"]
    assert sorted(locked["code"]) == ["models/mini/train.py"]
    before = lock.stat().st_mtime_ns

    again = invoke("lock", cwd=mini)
    assert "up to date (unchanged)" in again.stdout
    assert again.exit_code == 0
    assert lock.stat().st_mtime_ns == before, "an unchanged lock is not rewritten"

    ok = invoke("repro", "--check", cwd=mini)
    assert ok.exit_code == 0, ok.output
    verdict = read_verdict(mini / ".mlgate/out/mini/repro.json")
    assert verdict.ok
    assert verdict.kind == "repro"

    (mini / "models/mini/data/train.csv").write_text("x1,x2,y\n1,2,3\n4,5,7\n")
    bad = invoke("repro", "--check", cwd=mini)
    assert bad.exit_code == 1
    assert "FAIL data: 1 difference from the lock" in bad.stdout
    assert "models/mini/data/train.csv: sha256" in bad.stdout
    failed = read_verdict(mini / ".mlgate/out/mini/repro.json").failures
    assert [c.id for c in failed] == ["repro.lock.data"]
    assert failed[0].details["differences"][0]["subject"] == "models/mini/data/train.csv"
    assert lock.stat().st_mtime_ns == before, "checking never writes the lock"


def test_check_without_a_lock_fails_and_says_what_to_do(mini: Path) -> None:
    out = invoke("repro", cwd=mini)
    assert out.exit_code == 1
    assert "no mlgate.lock: the model's inputs are not pinned" in out.stdout


def test_default_code_is_the_tracked_python_files(mini: Path) -> None:
    invoke("lock", cwd=mini)
    (mini / "models/mini/helper.py").write_text("X = 1\n")
    assert invoke("repro", "--check", cwd=mini).exit_code == 0, "untracked code is not an input"
    commit_all(mini)
    out = invoke("repro", "--check", cwd=mini)
    assert out.exit_code == 1
    assert "models/mini/helper.py: added" in out.stdout


def test_json_output_and_out_folder(mini: Path, tmp_path: Path) -> None:
    invoke("lock", cwd=mini)
    out = invoke("repro", "--check", "--json", "--out", str(tmp_path / "verdicts"), cwd=mini)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["ok"] is True
    assert data["verdicts"][0]["model"] == "mini"
    assert read_verdict(tmp_path / "verdicts" / "repro.json").ok


def test_corrupt_lock_is_exit_2_and_left_alone(mini: Path) -> None:
    invoke("lock", cwd=mini)
    lock = mini / "mlgate.lock"
    text = lock.read_text().replace('"seed": 3', '"seed": 4')
    lock.write_text(text)
    out = invoke("repro", "--check", cwd=mini)
    assert out.exit_code == 2
    assert "mlgate.lock:" in out.stderr
    assert "edited by hand" in out.stderr
    assert lock.read_text() == text
    assert invoke("lock", "--model", "mini", cwd=mini).exit_code == 2
    assert lock.read_text() == text, "a partial re-lock never drops what it cannot read"
    fixed = invoke("lock", cwd=mini)
    assert fixed.exit_code == 0
    assert "was invalid and is rewritten" in fixed.stdout
    assert invoke("repro", cwd=mini).exit_code == 0


def test_lock_from_a_newer_mlgate_is_never_overwritten(mini: Path) -> None:
    lock = mini / "mlgate.lock"
    lock.write_text('{"format": 2, "models": {}}\n')
    for args in (("repro", "--check"), ("lock",)):
        out = invoke(*args, cwd=mini)
        assert out.exit_code == 2, args
        assert "newer than this mlgate" in out.stderr
    assert lock.read_text() == '{"format": 2, "models": {}}\n'


def test_missing_data_file_points_at_mlgate_yaml(mini: Path) -> None:
    (mini / "models/mini/data/train.csv").unlink()
    for args in (("lock",), ("repro",), ("train",)):
        out = invoke(*args, cwd=mini)
        assert out.exit_code == 2, args
        assert "mlgate.yaml:" in out.stderr
        assert "models[0].data.train" in out.stderr
        assert "file not found: models/mini/data/train.csv" in out.stderr


# --- train, run records, run cache ------------------------------------------------------------


def test_train_streams_output_and_writes_a_run_record(mini: Path) -> None:
    invoke("lock", cwd=mini)
    out = invoke("train", cwd=mini)
    assert out.exit_code == 0, out.output
    assert "training mini with [('alpha', '1')]" in out.stdout
    assert "mini: trained in" in out.stdout
    (path,) = (mini / ".mlgate/runs/mini").glob("*.json")
    record = read_record(path).data
    assert record["status"] == "succeeded"
    assert record["exit_code"] == 0
    assert record["command"] == "python train.py"
    assert record["seed"] == 3
    assert record["git"]["commit"] == gitio.head_commit(mini)
    assert record["git"]["branch"] == "main"
    assert record["inputs"]["lock"] == "matches"
    assert (
        record["inputs"]["fingerprint"]
        == json.loads((mini / "mlgate.lock").read_text())["models"]["mini"]["fingerprint"]
    )
    model_bytes = (mini / "models/mini/out/model.bin").read_bytes()
    assert record["outputs"]["models/mini/out/model.bin"]["sha256"] == (
        hashlib.sha256(model_bytes).hexdigest()
    )
    assert record["model_file"] == "models/mini/out/model.bin"
    assert set(record["metrics"]) == {"rmse"}
    assert record["signature"] == {
        "inputs": [{"name": "x1", "type": "integer"}, {"name": "x2", "type": "integer"}]
    }
    assert record["environment"]["python"].count(".") == 2
    assert record["output_tail"][-1] == "done"


def test_work_alongside_training_runs_while_it_runs_and_only_then(mini: Path) -> None:
    """The check's head start: started with the training process, waited for when it ends,
    never counted in its duration, and not run when a cached run is used."""
    import sys
    import threading
    import time

    from mlgate import proc
    from mlgate.config.loader import load_config
    from mlgate.repro.train import TrainRequest, train

    started = threading.Event()

    def slow() -> None:
        started.set()
        time.sleep(0.6)

    code = "import time; time.sleep(0.2)"
    begun = time.perf_counter()
    done = proc.stream([sys.executable, "-c", code], alongside=slow)
    assert started.is_set()
    assert time.perf_counter() - begun >= 0.6  # waited for
    assert done.ok
    assert done.seconds < 0.6  # the process's own time

    config = load_config(mini / "mlgate.yaml")
    seen: list[str] = []
    request = TrainRequest(config, use_cache=True, meanwhile=lambda m: seen.append(m.name))
    assert train(request).outcomes[0].status == "trained"
    assert seen == ["mini"]
    assert train(request).outcomes[0].status == "cached"
    assert seen == ["mini"]


def test_use_cache_skips_training_only_when_inputs_and_outputs_match(mini: Path) -> None:
    assert invoke("train", cwd=mini).exit_code == 0

    def records() -> list[Path]:
        return sorted((mini / ".mlgate/runs/mini").glob("*.json"))

    assert len(records()) == 1

    cached = invoke("train", "--use-cache", cwd=mini)
    assert cached.exit_code == 0
    assert "up to date, training skipped (--use-cache)" in cached.stdout
    assert "training mini" not in cached.stdout
    assert len(records()) == 1

    (mini / "models/mini/out/model.bin").write_text("tampered")
    retrained = invoke("train", "--use-cache", "--json", cwd=mini)
    assert json.loads(retrained.stdout)["models"][0]["status"] == "trained"
    assert "training mini with" in retrained.stderr, "with --json, training output is on stderr"
    assert len(records()) == 2

    (mini / "models/mini/data/train.csv").write_text("x1,x2,y\n0,0,0\n")
    assert "trained in" in invoke("train", "--use-cache", cwd=mini).stdout
    assert len(records()) == 3


def test_failing_training_shows_exit_code_and_last_lines(mini: Path) -> None:
    set_param(mini, "fail: yes")
    out = invoke("train", cwd=mini)
    assert out.exit_code == 1  # the repository's own code failed: the change fails
    assert "training of 'mini' failed: command exited with code 4" in out.stderr
    assert "ValueError: the data is bad" in out.stderr
    assert "log line 29" in out.stderr
    assert "log line 11\n" in out.stderr
    assert "log line 10\n" not in out.stderr, "only the last lines are repeated"
    assert "mlgate.yaml:" in out.stderr
    # Kept for diagnosis in the local cache, never among the run records that are committed.
    assert not list((mini / ".mlgate/runs").glob("**/*.json"))
    (path,) = (mini / ".mlgate/cache/failed-runs/mini").glob("*.json")
    record = read_record(path).data
    assert record["status"] == "failed"
    assert record["exit_code"] == 4
    assert record["outputs"] == {}
    assert "run record: .mlgate/cache/failed-runs/mini/" in out.stderr


def test_training_timeout_stops_the_command(mini: Path) -> None:
    set_param(mini, "sleep: 60")
    yaml = mini / "mlgate.yaml"
    yaml.write_text(yaml.read_text().replace("seed: 3", "seed: 3\n      timeout: 0.5"))
    out = invoke("train", cwd=mini)
    assert out.exit_code == 1
    assert "stopped after train.timeout (0.5 s)" in out.stderr
    (path,) = (mini / ".mlgate/cache/failed-runs/mini").glob("*.json")
    assert read_record(path).data["status"] == "timed-out"


def test_unknown_program_is_a_config_error(mini: Path) -> None:
    yaml = mini / "mlgate.yaml"
    yaml.write_text(yaml.read_text().replace("python train.py", "pyhton train.py"))
    out = invoke("train", cwd=mini)
    assert out.exit_code == 2
    assert "program 'pyhton' not found on PATH" in out.stderr
    assert "models[0].train.command" in out.stderr
    assert not (mini / ".mlgate/runs").exists()


def test_missing_declared_output_fails_the_run(mini: Path) -> None:
    yaml = mini / "mlgate.yaml"
    yaml.write_text(yaml.read_text().replace("out/metrics.json]", "out/metrics.json, out/x.png]"))
    out = invoke("train", cwd=mini)
    assert out.exit_code == 1
    assert "exited 0 but did not write models/mini/out/x.png" in out.stderr


# --- re-runs ----------------------------------------------------------------------------------


def test_rerun_of_deterministic_training_passes_without_touching_files(mini: Path) -> None:
    invoke("lock", cwd=mini)
    before = tree_state(mini)
    out = invoke("repro", "--rerun", cwd=mini)
    assert out.exit_code == 0, out.output
    assert "models/mini/out/model.bin: identical bytes" in out.stdout
    assert tree_state(mini) == before
    verdict = read_verdict(mini / ".mlgate/out/mini/repro.json")
    assert verdict.context["checked"] == ["rerun"]
    assert verdict.context["rerun"]["runs"] == 2


def test_rerun_of_unseeded_training_names_the_output_and_causes(mini: Path) -> None:
    set_param(mini, "noise: yes")
    out = invoke("repro", "--check", "--rerun", "--runs", "3", cwd=mini)
    assert out.exit_code == 1
    assert "models/mini/out/model.bin differs between run 1 and run 2" in out.stdout
    assert "models/mini/out/model.bin differs between run 1 and run 3" in out.stdout
    assert "unseeded randomness" in out.stdout
    verdict = read_verdict(mini / ".mlgate/out/mini/repro.json")
    ids = {c.id for c in verdict.failures}
    assert "repro.rerun.run2.output:models/mini/out/model.bin" in ids
    assert "repro.lock" in ids, "--check ran too: there is no lock"
    assert any("thread nondeterminism" in n for n in verdict.notes)


def test_single_rerun_compares_with_the_working_tree(mini: Path) -> None:
    out = invoke("repro", "--rerun", "--runs", "1", cwd=mini)
    assert out.exit_code == 2
    assert "run 'mlgate train' first" in out.stderr
    invoke("train", cwd=mini)
    out = invoke("repro", "--rerun", "--runs", "1", cwd=mini)
    assert out.exit_code == 0, out.output
    verdict = read_verdict(mini / ".mlgate/out/mini/repro.json")
    assert verdict.context["rerun"]["compared_with"] == "the working tree"
    (mini / "models/mini/out/model.bin").write_text("hand-made")
    assert invoke("repro", "--rerun", "--runs", "1", cwd=mini).exit_code == 1


def test_rerun_failing_in_the_copy_explains_isolation(mini: Path) -> None:
    (mini / "shared.txt").write_text("read from outside the model folder\n")
    set_param(mini, "shared: yes")
    assert invoke("train", cwd=mini).exit_code == 0, "works in place"
    assert invoke("repro", cwd=mini).exit_code == 1, "leaves a verdict (no lock)"
    out = invoke("repro", "--rerun", "--keep", cwd=mini)
    assert out.exit_code == 1
    assert "re-run 1 of 'mini' failed" in out.stderr
    assert "declare it under data.extra" in out.stderr
    assert "FileNotFoundError" in out.stderr
    assert not (mini / ".mlgate/out/mini/repro.json").exists(), "no stale verdict survives"
    kept = next(line for line in out.stderr.splitlines() if "isolated copy is kept in" in line)
    assert Path(kept.split("kept in ")[1].strip()).is_dir()
    yaml = mini / "mlgate.yaml"
    yaml.write_text(yaml.read_text().replace("target: y}", "target: y, extra: [../../shared.txt]}"))
    assert invoke("repro", "--rerun", cwd=mini).exit_code == 0


def test_runs_without_rerun_is_a_usage_error(mini: Path) -> None:
    out = invoke("repro", "--runs", "3", cwd=mini)
    assert out.exit_code == 2
    assert "--runs only applies with --rerun" in out.output


# --- several models ---------------------------------------------------------------------------


def test_several_models_lock_and_check_separately(mini: Path, tmp_path: Path) -> None:
    yaml = mini / "mlgate.yaml"
    second = MINI_YAML.split("models:\n", 1)[1].replace("name: mini", "name: other")
    yaml.write_text(yaml.read_text() + second)
    assert invoke("lock", "--model", "other", cwd=mini).exit_code == 0
    assert list(json.loads((mini / "mlgate.lock").read_text())["models"]) == ["other"]
    assert invoke("lock", cwd=mini).exit_code == 0
    assert list(json.loads((mini / "mlgate.lock").read_text())["models"]) == ["mini", "other"]
    out = invoke("repro", "--out", str(tmp_path / "v"), cwd=mini)
    assert out.exit_code == 0, out.output
    assert read_verdict(tmp_path / "v" / "other" / "repro.json").model == "other"
    yaml.write_text(MINI_YAML)
    dropped = invoke("lock", cwd=mini)
    assert "other: removed (no longer in mlgate.yaml)" in dropped.stdout


# --- the starter project: real scikit-learn training, predictions mode -----------------------


def test_starter_train_lock_check_and_rerun_in_predictions_mode(starter_repo: Path) -> None:
    assert invoke("lock", cwd=starter_repo).exit_code == 0
    out = invoke("train", cwd=starter_repo)
    assert out.exit_code == 0, out.output
    assert "roc_auc" in out.stdout
    out = invoke("repro", "--check", "--rerun", "--runs", "1", cwd=starter_repo)
    assert out.exit_code == 0, out.output
    assert "identical skops content" in out.stdout
    assert "metric roc_auc" in out.stdout


def test_starter_unseeded_model_fails_on_predictions(starter_repo: Path) -> None:
    model = starter_repo / "models/churn"
    params = model / "params.yaml"
    params.write_text(params.read_text().replace("model: logistic", "model: gradient_boosting"))
    train = model / "train.py"
    train.write_text(train.read_text().replace("random_state=seed", "random_state=None"))
    yaml = starter_repo / "mlgate.yaml"
    yaml.write_text(
        yaml.read_text().replace(
            "tolerance: {predictions: 1.0e-9", "tolerance: {predictions: 1.0e-6"
        )
    )
    out = invoke("repro", "--rerun", cwd=starter_repo)
    assert out.exit_code == 1, out.output
    verdict = read_verdict(starter_repo / ".mlgate/out/churn/repro.json")
    (pred,) = [c for c in verdict.failures if c.id.startswith("repro.rerun.predictions")]
    assert isinstance(pred.observed, (int, float))
    assert pred.observed > 1e-6
    assert pred.details["output"] == "models/churn/artifacts/model.skops"
    assert "differ from run 1 by up to" in pred.message
    assert "random_state=None" in train.read_text(), "the user's edit is untouched"


def test_lineage_finds_the_run_that_wrote_the_model_file(mini: Path) -> None:
    from mlgate.config.loader import load_config
    from mlgate.repro.runs import run_for_model_file

    config = load_config(mini / "mlgate.yaml")
    model = config.model("mini")
    assert run_for_model_file(config.root, model) is None
    invoke("train", cwd=mini)
    (path,) = (mini / ".mlgate/runs/mini").glob("*.json")
    found = run_for_model_file(config.root, model)
    assert found is not None
    assert found.path == path
    (mini / "models/mini/out/model.bin").write_text("someone else's model")
    assert run_for_model_file(config.root, model) is None


def test_failures_become_annotations_on_github_actions(
    mini: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("lock", cwd=mini)
    (mini / "models/mini/data/eval.csv").write_text("x1,x2,y\n0,0,0\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(mini))
    out = invoke("repro", cwd=mini)
    assert out.exit_code == 1
    line = next(row for row in (mini / "mlgate.yaml").read_text().splitlines() if "data:" in row)
    number = (mini / "mlgate.yaml").read_text().splitlines().index(line) + 1
    assert f"::error file=mlgate.yaml,line={number}," in out.stdout
    assert "data: 1 difference from mlgate.lock: models/mini/data/eval.csv" in out.stdout


def test_a_folder_can_be_an_output(mini: Path) -> None:
    yaml = mini / "mlgate.yaml"
    yaml.write_text(
        yaml.read_text().replace("outputs: [out/model.bin, out/metrics.json]", "outputs: [out]")
    )
    assert invoke("train", cwd=mini).exit_code == 0
    (path,) = (mini / ".mlgate/runs/mini").glob("*.json")
    out = read_record(path).data["outputs"]
    assert out["models/mini/out"]["kind"] == "directory"
    assert out["models/mini/out"]["count"] == 2
    assert "training skipped" in invoke("train", "--use-cache", cwd=mini).stdout
    assert invoke("repro", "--rerun", cwd=mini).exit_code == 0


def test_a_deleted_locked_data_file_is_listed_as_removed(mini: Path) -> None:
    assert invoke("lock", cwd=mini).exit_code == 0
    (mini / "models/mini/data/train.csv").unlink()
    out = invoke("repro", "--check", cwd=mini)
    assert out.exit_code == 1, out.output  # a difference from the lock, not a config error
    assert "models/mini/data/train.csv: removed" in out.stdout
