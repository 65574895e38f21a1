"""Train the churn model: a seeded scikit-learn pipeline, saved safely with skops.

Run from this folder (mlgate does): ``python train.py``. Reads params.yaml and data/train.csv,
writes artifacts/model.skops and artifacts/metrics.json (metrics on data/eval.csv).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd
import skops.io as sio
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).parent
TARGET = "churned"
NUMERIC = ["tenure_months", "monthly_charges", "support_calls", "age"]
CATEGORICAL = ["contract", "plan", "region"]
# "gender" is a sensitive attribute: it is never a feature, only a fairness slice.


def build(params: dict, seed: int) -> Pipeline:
    if params["model"] == "gradient_boosting":
        estimator = GradientBoostingClassifier(
            n_estimators=int(params["n_estimators"]),
            max_depth=int(params["max_depth"]),
            learning_rate=float(params["learning_rate"]),
            subsample=float(params["subsample"]),
            random_state=seed,
        )
    elif params["model"] == "logistic":
        estimator = LogisticRegression(C=float(params["C"]), max_iter=1000)
    else:
        raise SystemExit(f"params.yaml: unknown model {params['model']!r}")
    features = ColumnTransformer(
        [
            ("numeric", StandardScaler(), NUMERIC),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return Pipeline([("features", features), ("classifier", estimator)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default=HERE / "params.yaml", type=Path)
    parser.add_argument("--out", default=HERE / "artifacts", type=Path)
    args = parser.parse_args()
    params = yaml.safe_load(args.params.read_text())
    seed = int(os.environ.get("MLGATE_SEED", "42"))

    train = pd.read_csv(HERE / "data" / "train.csv")
    evaluation = pd.read_csv(HERE / "data" / "eval.csv")
    model = build(params, seed).fit(train[NUMERIC + CATEGORICAL], train[TARGET])

    proba = model.predict_proba(evaluation[NUMERIC + CATEGORICAL])[:, 1]
    labels = (proba >= 0.5).astype(int)
    metrics = {
        "roc_auc": roc_auc_score(evaluation[TARGET], proba),
        "log_loss": log_loss(evaluation[TARGET], proba),
        "accuracy": accuracy_score(evaluation[TARGET], labels),
        "f1": f1_score(evaluation[TARGET], labels),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    sio.dump(model, args.out / "model.skops")
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(json.dumps({k: round(v, 4) for k, v in metrics.items()}))


if __name__ == "__main__":
    main()
