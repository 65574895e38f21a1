"""Run a composite action's steps in bash the way the GitHub runner does.

The runner's contract, reproduced: ``GITHUB_ACTION_PATH``, ``GITHUB_OUTPUT``, ``GITHUB_ENV``,
``GITHUB_PATH``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_EVENT_PATH`` (a real event payload), inputs
and step outputs substituted into ``with:``/``env:``/``if:`` expressions (never into scripts),
``shell: bash`` as ``bash --noprofile --norc -eo pipefail FILE``. ``uses:`` steps (setup-python,
cache) are not run; the test supplies their outputs.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlgate.proc import run as run_process
from tests.workflow_files import ROOT

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
_COMPARE = re.compile(r"^(.+?)\s*(==|!=)\s*'([^']*)'$")


@dataclass
class ActionRun:
    exit_code: int
    outputs: dict[str, str]
    step_outputs: dict[str, dict[str, str]]
    summary: str
    stdout: str
    stderr: str
    env: dict[str, str]
    failed_step: str | None = None

    def commands(self, name: str) -> list[str]:
        """Workflow commands of one kind written to the log (``::error ...::msg``)."""
        return [line for line in self.stdout.splitlines() if line.startswith(f"::{name}")]


@dataclass
class _Context:
    inputs: dict[str, str]
    github: dict[str, Any]
    runner: dict[str, str]
    env: dict[str, str]
    steps: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def lookup(self, path: str) -> str:
        head, _, rest = path.partition(".")
        scopes: dict[str, Any] = {
            "inputs": self.inputs,
            "github": self.github,
            "runner": self.runner,
            "env": self.env,
            "steps": self.steps,
        }
        if head not in scopes:
            raise NotImplementedError(f"expression context {head!r} is not simulated: {path}")
        value: Any = scopes[head]
        for part in rest.split(".") if rest else []:
            value = value.get(part, "") if isinstance(value, Mapping) else ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    def evaluate(self, expr: str) -> str:
        expr = expr.strip()
        match = _COMPARE.match(expr)
        if match:
            left, op, literal = match.groups()
            equal = self.lookup(left.strip()) == literal
            return "true" if equal == (op == "==") else "false"
        if re.fullmatch(r"[\w.-]+", expr):
            return self.lookup(expr)
        raise NotImplementedError(f"expression not simulated by the harness: {expr}")

    def substitute(self, text: str) -> str:
        return _EXPR.sub(lambda m: self.evaluate(m.group(1)), text)

    def condition(self, text: str) -> bool:
        inner = _EXPR.fullmatch(text.strip())
        return self.evaluate(inner.group(1) if inner else text) == "true"


def parse_file_commands(text: str) -> dict[str, str]:
    """``NAME=value`` lines and ``NAME<<DELIM`` heredocs, as the runner reads them."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


def pull_request_event(
    *,
    number: int = 7,
    title: str = "Improve the churn model",
    head_ref: str = "feature",
    head_sha: str = "",
    base_sha: str = "",
    fork: bool = False,
    repository: str = "acme/churn",
) -> dict[str, Any]:
    """A ``pull_request`` (opened) payload with the fields GitHub sends that mlgate reads."""
    head_repo = "someone/churn" if fork else repository
    return {
        "action": "opened",
        "number": number,
        "pull_request": {
            "number": number,
            "title": title,
            "html_url": f"https://github.com/{repository}/pull/{number}",
            "state": "open",
            "draft": False,
            "user": {"login": "octocat"},
            "head": {
                "ref": head_ref,
                "sha": head_sha,
                "label": f"{head_repo.split('/', maxsplit=1)[0]}:{head_ref}",
                "repo": {"full_name": head_repo, "fork": fork},
            },
            "base": {
                "ref": "main",
                "sha": base_sha,
                "label": f"{repository.split('/', maxsplit=1)[0]}:main",
                "repo": {"full_name": repository, "fork": False},
            },
        },
        "repository": {"full_name": repository, "default_branch": "main"},
        "sender": {"login": "octocat"},
    }


def run_action(
    name: str,
    *,
    workspace: Path,
    temp: Path,
    inputs: Mapping[str, str] | None = None,
    event: Mapping[str, Any] | None = None,
    event_name: str = "pull_request",
    uses_outputs: Mapping[str, Mapping[str, str]] | None = None,
    env: Mapping[str, str] | None = None,
) -> ActionRun:
    """Run ``actions/NAME/action.yml`` against ``workspace`` and collect what it produced."""
    action_dir = ROOT / "actions" / name
    spec = yaml.safe_load((action_dir / "action.yml").read_text())
    temp.mkdir(parents=True, exist_ok=True)
    event_path = temp / "event.json"
    event_path.write_text(json.dumps(event or {}))
    files = {k: temp / f"{k}.txt" for k in ("output", "env", "path", "summary")}
    for path in files.values():
        path.write_text("")
    given = dict(inputs or {})
    unknown = set(given) - set(spec.get("inputs", {}))
    if unknown:
        raise KeyError(f"{name} has no inputs {sorted(unknown)}")
    base_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "INPUT_", "MLGATE_", "RUNNER_", "AGENT_"))
    }
    base_env.update(
        {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": "acme/churn",
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
            "RUNNER_TEMP": str(temp),
            "RUNNER_OS": "Linux",
        }
    )
    base_env.update(env or {})
    ctx = _Context(
        inputs={},
        github={
            "token": "ghs_harnessToken0123456789",
            "workspace": str(workspace),
            "event_name": event_name,
            "action_path": str(action_dir),
            "event": event or {},
        },
        runner={"temp": str(temp), "os": "Linux"},
        env=base_env,
    )
    for key, ispec in spec.get("inputs", {}).items():
        default = str(ispec.get("default", ""))
        ctx.inputs[key] = given.get(key, ctx.substitute(default))
    added_env: dict[str, str] = {}
    added_path: list[str] = []
    stdout, stderr = [], []
    for index, step in enumerate(spec["runs"]["steps"]):
        step_id = step.get("id", f"__step{index}")
        if "if" in step and not ctx.condition(str(step["if"])):
            continue
        if "uses" in step:
            provided = (uses_outputs or {}).get(step.get("id", ""), {})
            ctx.steps[step_id] = {"outputs": dict(provided)}
            continue
        step_env = {**base_env, **added_env, "GITHUB_ACTION_PATH": str(action_dir)}
        step_env["GITHUB_OUTPUT"] = str(files["output"])
        step_env["GITHUB_ENV"] = str(files["env"])
        step_env["GITHUB_PATH"] = str(files["path"])
        step_env["PATH"] = os.pathsep.join([*reversed(added_path), base_env.get("PATH", "")])
        for key, value in (step.get("env") or {}).items():
            step_env[key] = ctx.substitute(str(value))
        script = temp / f"step{index}.sh"
        script.write_text(step["run"])
        cwd = workspace / ctx.substitute(str(step.get("working-directory", ".")))
        files["output"].write_text("")
        proc = run_process(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=step_env,
            check=False,
        )
        stdout.append(proc.stdout)
        stderr.append(proc.stderr)
        ctx.steps[step_id] = {"outputs": parse_file_commands(files["output"].read_text())}
        added_env.update(parse_file_commands(files["env"].read_text()))
        added_path = [p for p in files["path"].read_text().splitlines() if p]
        ctx.env = {**base_env, **added_env}
        if proc.returncode != 0:
            return ActionRun(
                proc.returncode,
                {},
                {k: v["outputs"] for k, v in ctx.steps.items()},
                files["summary"].read_text(),
                "".join(stdout),
                "".join(stderr),
                added_env,
                failed_step=step.get("name"),
            )
    outputs = {k: ctx.substitute(str(o["value"])) for k, o in spec.get("outputs", {}).items()}
    return ActionRun(
        0,
        outputs,
        {k: v["outputs"] for k, v in ctx.steps.items()},
        files["summary"].read_text(),
        "".join(stdout),
        "".join(stderr),
        added_env,
    )


def installed_mlgate() -> str:
    """The mlgate of the environment running the tests (what the setup action exported)."""
    return str(Path(sys.executable).with_name("mlgate"))


def pip_cache_dir() -> Path:
    """The user's real pip cache (the tests' HOME is a temporary folder), shared by the tests
    that build environments from PyPI so each package is downloaded once per machine."""
    import pwd

    cache = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "pip"
    cache.mkdir(parents=True, exist_ok=True)
    return cache
