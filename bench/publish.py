"""Publish benchmark: a cold image build against a rebuild after a model-only change.

The starter project is trained and committed; ``mlgate publish --no-cache`` builds its image
with no docker layer cache and no mlgate wheelhouse cache (pip's own download cache, if any, is
the machine's). Then one training parameter changes, the model is retrained and committed, and
``mlgate publish`` runs again: only the model layer should rebuild. Both runs include the smoke
test. The base image is the debootstrapped Debian image of the e2e tests (built if missing).
Results go to bench/results/publish.json and a Markdown table.

Usage: python bench/publish.py [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

from tests.e2e import infra  # noqa: E402

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def run(*args: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MLGATE_"))}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # noqa: TID251
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def publish(project: Path, base: str, *extra: str) -> tuple[float, dict]:
    started = time.monotonic()
    out = run(sys.executable, "-m", "mlgate", "publish", "--base-image", base, "--json", *extra,
              cwd=project)  # fmt: skip
    return round(time.monotonic() - started, 2), json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mlgate-bench")
    parser.add_argument("--out", type=Path, default=RESULTS / "publish.json", help="results file")
    args = parser.parse_args()
    infra.ensure_engine()
    base = infra.ensure_base_image()
    project = args.work / "publish-starter"
    shutil.rmtree(project, ignore_errors=True)
    run(sys.executable, "-m", "mlgate", "init", str(project))
    model_dir = project / "models" / "churn"
    run(sys.executable, "train.py", cwd=model_dir)
    for step in (["init", "-q", "-b", "main"], ["add", "-A", "-f"], ["commit", "-qm", "starter"]):
        run(*GIT, *step, cwd=project)

    cold_total, cold = publish(project, base, "--no-cache")
    params = model_dir / "params.yaml"
    params.write_text(re.sub(r"^C: [\d.]+", "C: 0.3", params.read_text(), flags=re.M))
    run(sys.executable, "train.py", cwd=model_dir)
    run(*GIT, "commit", "-qam", "model-only change: C=0.3", cwd=project)
    warm_total, warm = publish(project, base)
    if warm["labels"]["io.mlgate.model.sha256"] == cold["labels"]["io.mlgate.model.sha256"]:
        raise SystemExit("the model did not change; the benchmark would measure nothing")

    results = {
        "benchmark": "publish",
        "base_image": base,
        "cold": {"total_s": cold_total, "docker_build_s": cold["build_seconds"]},
        "model_only_change": {"total_s": warm_total, "docker_build_s": warm["build_seconds"]},
        "ratio_total": round(warm_total / cold_total, 3),
        "ratio_docker_build": round(warm["build_seconds"] / cold["build_seconds"], 3),
        "image_size_mb": round(warm["size_bytes"] / 1e6, 1),
        "base_image_size_mb": round(
            int(run("docker", "image", "inspect", base, "--format", "{{.Size}}")) / 1e6, 1
        ),
        "smoke_rows": warm["smoke"]["rows"],
        "note": "one run on a shared 2-core machine (other jobs running); totals include the "
        "wheelhouse, the build and the smoke test",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return 0


def table(r: dict) -> str:
    return "\n".join(
        [
            f"Image publishing ({r['note']})",
            "",
            "| build | total s | docker build s |",
            "|---|---|---|",
            (
                f"| cold (--no-cache, no wheelhouse cache) | {r['cold']['total_s']} | "
                f"{r['cold']['docker_build_s']} |"
            ),
            (
                f"| after a model-only change | {r['model_only_change']['total_s']} | "
                f"{r['model_only_change']['docker_build_s']} |"
            ),
            "",
            (
                f"model-only rebuild / cold: {r['ratio_total']:.1%} of the total time, "
                f"{r['ratio_docker_build']:.1%} of the docker build time (target: at most 20%)"
            ),
            f"image size: {r['image_size_mb']} MB (base image {r['base_image_size_mb']} MB)",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
