"""Fixture repositories in the shapes users bring: written here, trained by their own scripts,
adopted with one mlgate.yaml and no edit to their code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from mlgate import gitio


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def commit(root: Path, message: str) -> None:
    if not (root / ".git").exists():
        gitio.git(["init", "--quiet"], root)
    gitio.git(["add", "--all"], root)
    gitio.git(["commit", "--quiet", "--allow-empty", "-m", message], root)


def table(rows: int, seed: int) -> pd.DataFrame:
    """A small binary-classification table: two numeric features, one category, a label."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=rows).round(4)
    x2 = rng.normal(size=rows).round(4)
    group = rng.choice(["north", "south"], size=rows)
    label = ((x1 + 0.5 * x2 + rng.normal(scale=0.7, size=rows)) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "group": group, "label": label})


# A script at the repository root's src/, as many projects have it: reads params.yaml and two
# CSV files, writes a skops model and a metrics file. It imports a helper module of its own.
ROOT_TRAIN = '''
    """Train from the repository root: python src/train.py"""
    import json
    from pathlib import Path

    import pandas as pd
    import skops.io as sio
    import yaml
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from features import FEATURES

    params = yaml.safe_load(Path("params.yaml").read_text())
    train = pd.read_csv("data/train.csv")
    test = pd.read_csv("data/test.csv")
    model = LogisticRegression(C=params["train"]["C"], max_iter=500)
    model.fit(train[FEATURES], train["label"])
    Path("models").mkdir(exist_ok=True)
    sio.dump(model, "models/model.skops")
    auc = roc_auc_score(test["label"], model.predict_proba(test[FEATURES])[:, 1])
    Path("metrics.json").write_text(json.dumps({"roc_auc": auc}))
'''


def root_model(root: Path) -> Path:
    """A model at ``path: .``: src/train.py, params.yaml, data/, an unpinned requirements.txt
    naming packages this machine does not have."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    table(240, 1).to_csv(root / "data" / "train.csv", index=False)
    table(120, 2).to_csv(root / "data" / "test.csv", index=False)
    write(
        root,
        {
            "src/train.py": ROOT_TRAIN,
            "src/features.py": 'FEATURES = ["x1", "x2"]\n',
            "params.yaml": "train:\n  C: 1.0\n",
            "requirements.txt": (
                "scikit-learn\npandas\nskops\nmlgate-absent-plotting\nmlgate-absent-boosting\n"
            ),
            "README.md": "# A model at the root\n",
            "docs/notes.md": "notes\n",
        },
    )
    return root


ROOT_CONFIG = """
    version: 1
    models:
      - name: clf
        path: .
        train:
          command: python src/train.py
          params: [params.yaml]
          metrics: metrics.json
        data: {train: data/train.csv, eval: data/test.csv, target: label}
        model: {file: models/model.skops, task: binary-classification}
        gates:
          metrics:
            roc_auc: {direction: higher, min: 0.6, max_regression: 0.02}
"""


# A DVC pipeline in the shape of iterative/example-get-started: params.yaml, stages prepare,
# featurize, train and evaluate in dvc.yaml, the raw data added with `dvc add`, the model and
# every intermediate kept out of git (in DVC's cache and a local-folder remote).
DVC_FILES = {
    "params.yaml": """
        prepare:
          split: 0.25
          seed: 20170428
        featurize:
          scale: true
        train:
          seed: 20170428
          n_est: 20
          min_split: 4
    """,
    "src/prepare.py": """
        import sys
        from pathlib import Path

        import pandas as pd
        import yaml

        params = yaml.safe_load(open("params.yaml"))["prepare"]
        data = pd.read_csv(sys.argv[1])
        test = data.sample(frac=params["split"], random_state=params["seed"])
        train = data.drop(test.index)
        Path("data/prepared").mkdir(parents=True, exist_ok=True)
        train.to_csv("data/prepared/train.csv", index=False)
        test.to_csv("data/prepared/test.csv", index=False)
    """,
    "src/featurization.py": """
        import sys
        from pathlib import Path

        import pandas as pd
        import yaml

        params = yaml.safe_load(open("params.yaml"))["featurize"]
        source, target = Path(sys.argv[1]), Path(sys.argv[2])
        target.mkdir(parents=True, exist_ok=True)
        train = pd.read_csv(source / "train.csv")
        for name in ("train", "test"):
            frame = pd.read_csv(source / f"{name}.csv")
            if params["scale"]:
                for column in ("x1", "x2"):
                    frame[column] = (frame[column] - train[column].mean()) / train[column].std()
            frame["north"] = (frame.pop("group") == "north").astype(int)
            frame.to_csv(target / f"{name}.csv", index=False)
    """,
    "src/train.py": """
        import sys

        import pandas as pd
        import skops.io as sio
        import yaml
        from sklearn.ensemble import RandomForestClassifier

        params = yaml.safe_load(open("params.yaml"))["train"]
        train = pd.read_csv(sys.argv[1] + "/train.csv")
        model = RandomForestClassifier(
            n_estimators=params["n_est"],
            min_samples_split=params["min_split"],
            random_state=params["seed"],
            n_jobs=1,
        )
        model.fit(train.drop(columns=["label"]), train["label"])
        sio.dump(model, sys.argv[2])
    """,
    "src/evaluate.py": """
        import json
        import sys
        from pathlib import Path

        import pandas as pd
        import skops.io as sio
        from sklearn.metrics import average_precision_score, roc_auc_score

        model = sio.load(sys.argv[1], trusted=sio.get_untrusted_types(file=sys.argv[1]))
        test = pd.read_csv(sys.argv[2] + "/test.csv")
        score = model.predict_proba(test.drop(columns=["label"]))[:, 1]
        Path("eval").mkdir(exist_ok=True)
        metrics = {"avg_prec": average_precision_score(test["label"], score),
                   "roc_auc": roc_auc_score(test["label"], score)}
        Path("eval/metrics.json").write_text(json.dumps(metrics))
    """,
    "dvc.yaml": """
        stages:
          prepare:
            cmd: python src/prepare.py data/data.csv
            deps:
            - data/data.csv
            - src/prepare.py
            params:
            - prepare.seed
            - prepare.split
            outs:
            - data/prepared
          featurize:
            cmd: python src/featurization.py data/prepared data/features
            deps:
            - data/prepared
            - src/featurization.py
            params:
            - featurize.scale
            outs:
            - data/features
          train:
            cmd: python src/train.py data/features model.skops
            deps:
            - data/features
            - src/train.py
            params:
            - train.min_split
            - train.n_est
            - train.seed
            outs:
            - model.skops
          evaluate:
            cmd: python src/evaluate.py model.skops data/features
            deps:
            - data/features
            - model.skops
            - src/evaluate.py
            outs:
            - eval
        metrics:
        - eval/metrics.json
    """,
    "README.md": "# A DVC pipeline\n",
}


def dvc(root: Path, *args: str) -> None:
    import sys

    from mlgate import proc

    proc.run([sys.executable, "-m", "dvc", *args], cwd=root)


def dvc_pipeline(root: Path, remote: Path) -> Path:
    """The pipeline run once (dvc repro), pushed to a local-folder remote, committed."""
    root.mkdir(parents=True, exist_ok=True)
    gitio.git(["init", "--quiet"], root)
    dvc(root, "init", "--quiet")
    dvc(root, "config", "core.analytics", "false")
    dvc(root, "remote", "add", "--default", "local", str(remote))
    (root / "data").mkdir()
    table(300, 3).to_csv(root / "data" / "data.csv", index=False)
    dvc(root, "add", "--quiet", "data/data.csv")
    write(root, DVC_FILES)
    dvc(root, "repro", "--quiet")
    dvc(root, "push", "--quiet")
    commit(root, "a DVC pipeline")
    return root


DVC_CONFIG = """
    version: 1
    models:
      - name: classifier
        path: .
        train: {command: dvc repro}
        data: {train: data/features/train.csv, eval: data/features/test.csv, target: label}
        model: {file: model.skops, task: binary-classification}
        gates:
          metrics:
            roc_auc: {direction: higher, min: 0.6, max_regression: 0.02}
"""


# The MLflow tutorial's shape (sklearn_elasticnet_wine): a semicolon-separated wine table split
# in memory after np.random.seed(40), an ElasticNet logged with mlflow.sklearn.log_model and
# log_metric, an MLproject entry point with parameters and a conda.yaml.
MLFLOW_FILES = {
    "train.py": """
        import json
        import sys

        import mlflow
        import mlflow.sklearn
        import numpy as np
        import pandas as pd
        from sklearn.linear_model import ElasticNet
        from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
        from sklearn.model_selection import train_test_split


        def eval_metrics(actual, pred):
            rmse = np.sqrt(mean_squared_error(actual, pred))
            return rmse, mean_absolute_error(actual, pred), r2_score(actual, pred)


        if __name__ == "__main__":
            np.random.seed(40)
            data = pd.read_csv("wine-quality.csv", sep=";")
            train, test = train_test_split(data)
            train_x = train.drop(["quality"], axis=1)
            test_x = test.drop(["quality"], axis=1)
            alpha = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
            l1_ratio = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
            with mlflow.start_run():
                lr = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
                lr.fit(train_x, train[["quality"]])
                rmse, mae, r2 = eval_metrics(test[["quality"]], lr.predict(test_x))
                mlflow.log_param("alpha", alpha)
                mlflow.log_param("l1_ratio", l1_ratio)
                mlflow.log_metric("rmse", rmse)
                mlflow.log_metric("r2", r2)
                mlflow.log_metric("mae", mae)
                mlflow.log_text(json.dumps(test.index.tolist()), "test_index.json")
                mlflow.sklearn.log_model(lr, "model")
    """,
    "MLproject": """
        name: tutorial

        conda_env: conda.yaml

        entry_points:
          main:
            parameters:
              alpha: {type: float, default: 0.5}
              l1_ratio: {type: float, default: 0.1}
            command: "python train.py {alpha} {l1_ratio}"
    """,
    "conda.yaml": """
        name: tutorial
        channels:
          - conda-forge
        dependencies:
          - python=3.11
          - pip
          - pip:
            - scikit-learn
            - mlflow>=2.16
            - pandas
    """,
    ".gitignore": "mlruns/\n",
}


def wine(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    acid = rng.normal(8.0, 1.5, rows).round(2)
    sugar = rng.gamma(2.0, 1.2, rows).round(2)
    alcohol = rng.normal(10.5, 1.0, rows).round(2)
    quality = np.clip(np.rint(0.5 * alcohol - 0.2 * acid + rng.normal(0, 0.5, rows)), 3, 8)
    return pd.DataFrame(
        {
            "fixed acidity": acid,
            "residual sugar": sugar,
            "alcohol": alcohol,
            "quality": quality.astype(int),
        }
    )


def mlflow_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    wine(200, 5).to_csv(root / "wine-quality.csv", sep=";", index=False)
    write(root, MLFLOW_FILES)
    commit(root, "the MLflow tutorial")
    return root


MLFLOW_CONFIG = """
    version: 1
    models:
      - name: wine
        path: .
        train: {entry_point: main, parameters: {alpha: 0.4}, mlflow: true}
        data:
          train: wine-quality.csv
          split: {random_state: 40}
          target: quality
        model: {file: model, task: regression}
        repro: {mode: metrics}  # MLmodel records each run's id and time: compare the metrics
        gates:
          metrics:
            rmse: {direction: lower, max: 2.0}
"""


MONO_TRAIN = """
    import json
    from pathlib import Path

    import pandas as pd
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    train = pd.read_csv("data/train.csv")
    test = pd.read_csv("data/test.csv")
    features = ["x1", "x2"]
    model = LogisticRegression(C=float(Path("C.txt").read_text()), max_iter=500)
    model.fit(train[features], train["label"])
    sio.dump(model, "model.skops")
    auc = roc_auc_score(test["label"], model.predict_proba(test[features])[:, 1])
    Path("metrics.json").write_text(json.dumps({"roc_auc": auc}))
"""


def monorepo(root: Path) -> Path:
    """Two models, each in its folder with its own script, data and a shared requirements."""
    for index, name in enumerate(("churn", "fraud")):
        folder = root / "models" / name
        (folder / "data").mkdir(parents=True)
        table(200, 10 + index).to_csv(folder / "data" / "train.csv", index=False)
        table(100, 20 + index).to_csv(folder / "data" / "test.csv", index=False)
        write(folder, {"train.py": MONO_TRAIN, "C.txt": "1.0\n"})
    write(root, {"requirements.txt": "scikit-learn\npandas\nskops\n", "README.md": "# two\n"})
    commit(root, "two models")
    return root
