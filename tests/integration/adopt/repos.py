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
            "requirements.txt": "scikit-learn\npandas\nskops\nmlgate-absent-plotting\ncatboost\n",
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
