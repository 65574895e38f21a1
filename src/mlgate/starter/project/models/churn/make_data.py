"""Generate the starter's churn data deterministically (seeded), as train.csv and eval.csv.

The data are synthetic customers of a subscription service. Rerun to regenerate; the same seed
gives byte-identical files, so the lock's hashes stay valid.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
REGIONS = ["north", "south", "east", "west"]
CONTRACTS = ["monthly", "annual", "two-year"]
PLANS = ["basic", "standard", "premium"]


def customers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.choice(REGIONS, size=n, p=[0.35, 0.25, 0.25, 0.15])
    contract = rng.choice(CONTRACTS, size=n, p=[0.55, 0.3, 0.15])
    plan = rng.choice(PLANS, size=n, p=[0.5, 0.35, 0.15])
    gender = rng.choice(["female", "male"], size=n)
    age = rng.integers(18, 80, size=n)
    tenure = rng.gamma(2.0, 12.0, size=n).round().astype(int).clip(0, 120)
    base = {"basic": 25.0, "standard": 55.0, "premium": 90.0}
    # Price list bounds: no plan costs under 10 or over 110 a month (never a negative charge).
    charges = (np.array([base[p] for p in plan]) + rng.normal(0, 8, size=n)).clip(10.0, 110.0)
    support_calls = rng.poisson(1.2 + (plan == "basic") * 0.8, size=n)
    logit = (
        -0.6
        + 1.3 * (contract == "monthly")
        - 0.9 * (contract == "two-year")
        - 0.035 * tenure
        + 0.018 * (charges - 50)
        + 0.45 * support_calls
        + 0.35 * (region == "west")
        - 0.01 * (age - 45)
    )
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    return pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": charges.round(2),
            "support_calls": support_calls,
            "age": age,
            "contract": contract,
            "plan": plan,
            "region": region,
            "gender": gender,
            "churned": churned.astype(int),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rows", type=int, default=4500)
    args = parser.parse_args()
    frame = customers(args.rows, args.seed)
    cut = args.rows * 2 // 3
    (HERE / "data").mkdir(exist_ok=True)
    frame.iloc[:cut].to_csv(HERE / "data" / "train.csv", index=False)
    frame.iloc[cut:].to_csv(HERE / "data" / "eval.csv", index=False)


if __name__ == "__main__":
    main()
