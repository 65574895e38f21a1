"""DVC pipelines, MLflow stores and projects, conda/python_env files and the adopt draft, read
from files alone (no DVC, no MLflow, no process)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from mlgate.errors import CheckFailed, ConfigError, UsageError
from mlgate.integrations import dvc, mlflow
from mlgate.repro import environment
from mlgate.starter import adopt


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


PIPELINE = """
    stages:
      prepare:
        cmd: python prep.py
        deps: [raw.csv, prep.py]
        params: [prepare.seed, {other.yaml: [k]}]
        outs: [prepared]
      train:
        cmd: [python fit.py, echo done]
        deps: [prepared, fit.py]
        outs: [{model.skops: {cache: true}}]
        metrics: [{scores.json: {cache: false}}]
      sweep:
        foreach: [1, 2]
        do: {cmd: echo}
    metrics: [eval/metrics.json]
"""
LOCK = """
    schema: '2.0'
    stages:
      prepare:
        cmd: python prep.py
        deps:
        - {path: raw.csv, hash: md5, md5: aaa, size: 1}
        params:
          params.yaml: {prepare.seed: 7}
          other.yaml: {k: [1, 2]}
        outs:
        - {path: prepared, hash: md5, md5: bbb.dir, size: 2, nfiles: 1}
"""


def test_a_pipeline_its_stages_upstream_and_its_lock(tmp_path: Path) -> None:
    write(tmp_path / "dvc.yaml", PIPELINE)
    write(tmp_path / "dvc.lock", LOCK)
    pipeline = dvc.load_pipeline(tmp_path / "dvc.yaml")
    assert list(pipeline.stages) == ["prepare", "train"]
    assert pipeline.notes == ("dvc.yaml stage 'sweep' (foreach/matrix or no cmd) is not read",)
    assert pipeline.stages["train"].cmd == "python fit.py && echo done"
    assert pipeline.producer(tmp_path / "prepared" / "a.csv") is pipeline.stages["prepare"]
    assert [s.name for s in pipeline.upstream(["train"])] == ["prepare", "train"]
    assert pipeline.metrics_files() == [tmp_path / "eval/metrics.json", tmp_path / "scores.json"]
    stages = dvc.ModelStages(pipeline, tuple(pipeline.upstream(["train"])))
    assert stages.covers(tmp_path / "prepared" / "x.csv")
    assert not stages.covers(tmp_path / "README.md")
    write(tmp_path / "dvc.lock", LOCK.replace("cmd: python prep.py", "cmd: [python prep.py, ls]"))
    pipeline = dvc.load_pipeline(tmp_path / "dvc.yaml")
    stages = dvc.ModelStages(pipeline, tuple(pipeline.upstream(["train"])))
    entry = stages.entry(lambda p: p.relative_to(tmp_path).as_posix())
    assert entry["stages"]["prepare"]["cmd"] == "python prep.py && ls"  # as dvc.lock ran it
    assert entry["stages"]["prepare"]["deps"] == {"raw.csv": "aaa", "prep.py": None}
    assert entry["stages"]["prepare"]["params"] == {
        "other.yaml:k": "[1, 2]",
        "params.yaml:prepare.seed": 7,
    }
    assert entry["stages"]["train"]["outs"] == {"model.skops": None, "scores.json": None}


@pytest.mark.parametrize(
    ("command", "stages"),
    [
        ("dvc repro", []),
        ("dvc repro -f train", ["train"]),
        ("dvc repro dvc.yaml:train evaluate", ["train", "evaluate"]),
        ("python train.py", None),
        ("dvc repro 'unclosed", None),
    ],
)
def test_dvc_repro_targets(command: str, stages: list[str] | None) -> None:
    assert dvc.repro_target(command) == stages


def test_an_unreadable_pipeline_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "dvc.yaml", "stages: [1\n")
    with pytest.raises(ConfigError, match="cannot read the DVC pipeline"):
        dvc.load_pipeline(tmp_path / "dvc.yaml")
    write(tmp_path / "dvc.yaml", "- a\n")
    with pytest.raises(ConfigError, match="no 'stages'"):
        dvc.load_pipeline(tmp_path / "dvc.yaml")


MLPROJECT = """
    name: demo
    python_env: python_env.yaml
    entry_points:
      main:
        parameters:
          alpha: {type: float, default: 0.5}
          name: {type: string, default: "a b"}
          data: path
        command: "python train.py {alpha} {name} {data}"
"""


def test_an_mlproject_entry_point_with_its_parameters(tmp_path: Path) -> None:
    write(tmp_path / "MLproject", MLPROJECT)
    found = mlflow.entry_point(tmp_path, "main", {"data": "x.csv", "alpha": 0.1})
    assert found.command == "python train.py 0.1 'a b' x.csv"
    assert found.environment == "python_env.yaml"
    with pytest.raises(ConfigError, match="parameter 'data' has no value"):
        mlflow.entry_point(tmp_path, "main", {})
    with pytest.raises(ConfigError, match="no parameter 'beta'"):
        mlflow.entry_point(tmp_path, "main", {"beta": 1})
    with pytest.raises(ConfigError, match="entry points: main"):
        mlflow.entry_point(tmp_path, "other", {})
    with pytest.raises(ConfigError, match="needs an MLproject"):
        mlflow.entry_point(tmp_path / "nowhere", "main", {})


def test_a_run_store_read_from_its_files(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with pytest.raises(CheckFailed, match="logged no MLflow run"):
        mlflow.read_run(store)
    for run_id, start in (("old", 1), ("new", 2)):
        write(store / "mlruns/0" / run_id / "meta.yaml", f"run_id: {run_id}\nstart_time: {start}\n")
    write(store / "mlruns/0/new/metrics/rmse", "10 0.9 0\n30 0.5 2\n20 0.7 1\nbad line\n")
    write(store / "mlruns/0/new/metrics/nested/loss", "5 1.5\n")
    write(store / "mlruns/0/models/m-1/meta.yaml", "model_id: m-1\n")
    run = mlflow.read_run(store)
    assert (run.run_id, dict(run.metrics), run.model_dir) == (
        "new",
        {"nested/loss": 1.5, "rmse": 0.5},
        None,
    )
    with pytest.raises(CheckFailed, match="logged no model"):
        mlflow.collect(store, tmp_path / "model", "model")
    write(store / "mlruns/0/models/m-1/artifacts/MLmodel", "run_id: new\n")
    write(store / "mlruns/0/models/m-1/artifacts/model.skops", "x")
    (tmp_path / "model").write_text("an old file where the directory goes")
    mlflow.collect(store, tmp_path / "model", "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["MLmodel", "model.skops"]
    logged = mlflow.logged_metrics(tmp_path, "nowhere")
    assert logged is None


def test_conda_and_python_env_files_are_environments(tmp_path: Path) -> None:
    conda = write(
        tmp_path / "conda.yaml",
        """
        dependencies:
          - python=3.11
          - numpy=2.1.3
          - scipy
          - pip
          - pip: [scikit-learn==1.5.2, "mlflow>=2", "-e ."]
        """,
    )
    assert environment.read_environment(conda, "conda.yaml").packages == {
        "mlflow": ">=2",
        "numpy": "2.1.3",
        "scikit-learn": "1.5.2",
        "scipy": "*",
    }
    env = write(tmp_path / "python_env.yaml", "python: '3.11'\ndependencies: [pandas==2.2.3]\n")
    assert environment.read_environment(env, "python_env.yaml").packages == {"pandas": "2.2.3"}
    write(tmp_path / "conda.yaml", "- not a mapping\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        environment.read_environment(conda, "conda.yaml")


def test_the_draft_marks_what_it_does_not_know(tmp_path: Path) -> None:
    write(tmp_path / "notes.md", "nothing to train here\n")
    result = adopt.adopt(adopt.AdoptRequest(tmp_path))
    assert result.unknown == ("train.command", "data", "model.file", "model.task", "gates.metrics")
    text = (tmp_path / "mlgate.yaml").read_text()
    assert "# FILL data: the tables" in text
    with pytest.raises(UsageError, match="never overwrites"):
        adopt.adopt(adopt.AdoptRequest(tmp_path))


def test_gitignore_lines_are_added_once_after_the_users_own(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc")
    assert adopt._ignore(tmp_path)
    assert (tmp_path / ".gitignore").read_text().splitlines() == [
        "*.pyc",
        "# mlgate: local caches and outputs",
        ".mlgate/cache/",
        ".mlgate/out/",
    ]
    assert not adopt._ignore(tmp_path)


def test_split_arguments_and_written_files_are_read_from_the_script(tmp_path: Path) -> None:
    write(
        tmp_path / "train.py",
        """
        x_train, x_test = train_test_split(
            data, test_size=0.2, random_state=7, stratify=data["label"]
        )
        joblib.dump(model, "out/model.joblib")
        open("out/metrics.json", "w")
        """,
    )
    assert adopt._split_arguments(tmp_path) == {
        "test_size": "0.2",
        "seed": "7",
        "stratify": "label",
    }
    assert adopt._written_by(tmp_path, "train.py") == ["out/model.joblib"]
    assert adopt._pick_tables(["a/train.csv", "a/valid.csv"]) == (
        "a/train.csv",
        "a/valid.csv",
        False,
    )
    assert adopt._pick_tables(["wine.csv"]) == ("wine.csv", None, True)
    assert adopt._pick_tables([]) == (None, None, False)
    assert json.loads(json.dumps(adopt._model_folders(["src/train.py", "m/a/train.py"]))) == [
        ".",
        "m/a",
    ]
