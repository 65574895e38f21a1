"""Prepare this repository's GitHub Actions files for linters that only read workflows.

    python tools/actions_lint.py OUT_DIR

writes into OUT_DIR/workflows every workflow (.github/workflows, src/mlgate/starter/workflows)
and, for each composite action, a workflow whose job runs the action's steps with its inputs as
``workflow_call`` inputs, so actionlint checks the actions' expressions and contexts too; and
into OUT_DIR/scripts every ``run:`` script as a bash file (expressions replaced by a
placeholder) for shellcheck.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)


def action_as_workflow(path: Path) -> dict:
    spec = yaml.safe_load(path.read_text("utf-8"))
    inputs = {}
    for name, item in (spec.get("inputs") or {}).items():
        entry = {"description": item.get("description", ""), "type": "string"}
        default = str(item.get("default", ""))
        if "${{" not in default:
            entry["default"] = default
        inputs[name] = entry
    return {
        "name": spec["name"],
        "on": {"workflow_call": {"inputs": inputs}},
        "permissions": {},
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "permissions": {},
                "steps": spec["runs"]["steps"],
            }
        },
    }


def run_scripts(doc: dict) -> list[tuple[str, str]]:
    found = []
    if "runs" in doc:
        steps = [("action", s) for s in doc["runs"]["steps"]]
    else:
        steps = [(job, s) for job, j in doc.get("jobs", {}).items() for s in j.get("steps", [])]
    for index, (job, step) in enumerate(steps):
        if "run" in step:
            found.append((f"{job}-{index}", step["run"]))
    return found


def main(out: Path) -> int:
    workflows = out / "workflows"
    scripts = out / "scripts"
    for folder in (workflows, scripts):
        folder.mkdir(parents=True, exist_ok=True)
    sources = [
        *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
        *sorted((ROOT / "src" / "mlgate" / "starter" / "workflows").glob("*.yml")),
    ]
    for path in sources:
        prefix = path.parent.parent.name.strip(".")
        (workflows / f"{prefix}-{path.name}").write_text(path.read_text("utf-8"))
    actions = sorted((ROOT / "actions").glob("*/action.yml"))
    for path in actions:
        doc = action_as_workflow(path)
        text = yaml.safe_dump(doc, sort_keys=False, width=1000)
        (workflows / f"action-{path.parent.name}.yml").write_text(text)
    for path in [*sources, *actions]:
        doc = yaml.safe_load(path.read_text("utf-8"))
        stem = path.parent.name if path.name == "action.yml" else path.stem
        for name, script in run_scripts(doc):
            body = EXPRESSION.sub("EXPRESSION", script)
            target = scripts / f"{stem}-{name}.sh"
            target.write_text(f"#!/usr/bin/env bash\n# from {path.relative_to(ROOT)}\n{body}")
    for shell in sorted((ROOT / "actions").glob("*/*.sh")):
        (scripts / f"{shell.parent.name}-{shell.name}").write_text(shell.read_text("utf-8"))
    print(f"{len(sources)} workflows, {len(actions)} actions -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
