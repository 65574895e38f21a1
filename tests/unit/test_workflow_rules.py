"""Static rules every composite action and workflow of this repository (and of the starter)
must follow: inputs through env, pinned uses, minimal permissions, no pull_request_target."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mlgate import __version__
from mlgate.cli.main import COMMANDS
from mlgate.starter import MLGATE_REPO
from tests.workflow_files import ACTIONS, ROOT, TEMPLATES, WORKFLOWS, YamlFile, load, steps_of

ALL = [*ACTIONS, *WORKFLOWS, *TEMPLATES]
EXPECTED_ACTIONS = {"setup", "check", "plan", "report", "registry", "publish", "release", "promote"}
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+){0,2}\b")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def ids(paths: list[Any]) -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in paths]


def test_every_expected_action_exists() -> None:
    present = {p.parent.name for p in ACTIONS}
    assert present <= EXPECTED_ACTIONS
    assert {"setup", "check", "plan"} <= present


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_no_expression_inside_run(path: Any) -> None:
    for step in steps_of(load(path)):
        assert "${{" not in step.get("run", ""), f"{step.get('name')}: pass it through env:"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_uses_pinned_by_sha_with_version_comment(path: Any) -> None:
    doc = load(path)
    refs = [s["uses"] for s in steps_of(doc) if "uses" in s]
    refs += [j["uses"] for j in doc.data.get("jobs", {}).values() if "uses" in j]
    for ref in refs:
        assert not ref.startswith("./") or path in WORKFLOWS, f"{ref}: local path in {doc.rel}"
        if ref.startswith("./"):
            continue
        if ref.startswith(f"{MLGATE_REPO}/"):
            # Our own actions and workflows move in lockstep with the package version.
            assert ref.endswith(f"@v{__version__}"), ref
            continue
        assert SHA_PIN.match(ref), f"{ref} is not pinned by a full commit SHA"
        line = next(x for x in doc.text.splitlines() if ref in x)
        assert VERSION_COMMENT.search(line), f"{ref}: add the release as a comment (# vX.Y.Z)"


@pytest.mark.parametrize("path", ACTIONS, ids=ids(ACTIONS))
def test_action_is_thin_composite_with_described_interface(path: Any) -> None:
    doc = load(path)
    data = doc.data
    assert data["name"].startswith("mlgate")
    assert data["description"].strip()
    assert data["runs"]["using"] == "composite"
    for name, spec in data.get("inputs", {}).items():
        assert spec.get("description", "").strip(), f"input {name} has no description"
        assert "default" in spec or spec.get("required"), f"input {name}: default or required"
    for name, spec in data.get("outputs", {}).items():
        assert spec.get("description", "").strip(), f"output {name} has no description"
        assert EXPRESSION.search(spec["value"]), f"output {name} has no value expression"
    for step in data["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", f"{step.get('name')}: every run step needs shell:"
        assert step.get("name"), "every step has a name, it is what the log shows"


@pytest.mark.parametrize("path", ACTIONS, ids=ids(ACTIONS))
def test_every_input_is_used_and_every_reference_is_declared(path: Any) -> None:
    doc = load(path)
    declared = set(doc.data.get("inputs", {}))
    referenced = set()
    conditions = [str(s["if"]) for s in doc.data["runs"]["steps"] if "if" in s]
    for expr in [*EXPRESSION.findall(doc.text), *conditions]:
        referenced |= set(re.findall(r"inputs\.([\w-]+)", expr))
    assert referenced <= declared, f"undeclared inputs: {referenced - declared}"
    assert declared <= referenced, f"unused inputs: {declared - referenced}"


@pytest.mark.parametrize("path", ACTIONS, ids=ids(ACTIONS))
def test_outputs_come_from_steps_that_exist(path: Any) -> None:
    doc = load(path)
    step_ids = {s.get("id") for s in doc.data["runs"]["steps"]}
    for spec in doc.data.get("outputs", {}).values():
        for step_id in re.findall(r"steps\.([\w-]+)\.outputs", spec["value"]):
            assert step_id in step_ids


@pytest.mark.parametrize("path", ACTIONS, ids=ids(ACTIONS))
def test_engine_is_installed_from_the_action_source(path: Any) -> None:
    doc = load(path)
    runs = [s.get("run", "") for s in doc.data["runs"]["steps"]]
    assert any("$GITHUB_ACTION_PATH" in r and "install.sh" in r for r in runs)


def _workflows() -> list[YamlFile]:
    return [load(p) for p in [*WORKFLOWS, *TEMPLATES]]


@pytest.mark.parametrize("path", [*WORKFLOWS, *TEMPLATES], ids=ids([*WORKFLOWS, *TEMPLATES]))
def test_workflow_permissions_are_minimal_and_per_job(path: Any) -> None:
    doc = load(path)
    assert "pull_request_target" not in doc.triggers
    assert doc.data.get("permissions") == {}, "top level: permissions: {} (jobs ask for theirs)"
    for name, job in doc.data["jobs"].items():
        assert "permissions" in job, f"job {name} declares no permissions"
        for scope, level in (job["permissions"] or {}).items():
            assert level in {"read", "write", "none"}, (name, scope, level)


@pytest.mark.parametrize("path", [*WORKFLOWS, *TEMPLATES], ids=ids([*WORKFLOWS, *TEMPLATES]))
def test_checkout_never_persists_credentials(path: Any) -> None:
    for step in steps_of(load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False


def test_reusable_workflows_are_workflow_call_with_described_inputs() -> None:
    for name in ("mlgate-pr.yml", "mlgate-release.yml"):
        doc = load(ROOT / ".github" / "workflows" / name)
        call = doc.triggers["workflow_call"]
        assert set(doc.triggers) == {"workflow_call"}
        for key, spec in call["inputs"].items():
            assert spec.get("description"), f"{name}: input {key}"


def test_registry_writes_are_serialised_per_model() -> None:
    doc = load(ROOT / ".github" / "workflows" / "mlgate-release.yml")
    for job in ("release", "promote"):
        concurrency = doc.data["jobs"][job]["concurrency"]
        assert concurrency["cancel-in-progress"] is False
        assert concurrency["group"].startswith("mlgate-registry-${{ github.repository }}-")
    assert doc.data["jobs"]["release"]["permissions"] == {"contents": "write", "packages": "write"}


def test_pull_request_check_cannot_write_contents() -> None:
    doc = load(ROOT / ".github" / "workflows" / "mlgate-pr.yml")
    for job in doc.data["jobs"].values():
        assert job["permissions"].get("contents", "none") in {"read", "none"}


def test_templates_call_the_reusable_workflows_of_this_release() -> None:
    pr = load(ROOT / "src" / "mlgate" / "starter" / "workflows" / "mlgate-pr.yml")
    release = load(ROOT / "src" / "mlgate" / "starter" / "workflows" / "mlgate-release.yml")
    assert pr.data["jobs"]["mlgate"]["uses"] == (
        f"{MLGATE_REPO}/.github/workflows/mlgate-pr.yml@v{__version__}"
    )
    assert release.data["jobs"]["release"]["uses"].startswith(
        f"{MLGATE_REPO}/.github/workflows/mlgate-release.yml@"
    )
    assert "pull_request" in pr.triggers
    assert {"push", "workflow_dispatch"} <= set(release.triggers)


def test_precommit_hooks_call_existing_commands() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"mlgate-config", "mlgate-lock", "mlgate-model-scan", "mlgate-card"}
    for hook in hooks:
        program, command, *_ = hook["entry"].split()
        assert program == "mlgate"
        assert hook["language"] == "python"
        assert hook.get("description")
        if command in COMMANDS:
            continue
        pytest.skip(f"{hook['id']}: `mlgate {command}` is not part of this mlgate yet")


_OWN_ACTION = re.compile(rf"^(?:\./|{re.escape(MLGATE_REPO)}/)actions/([\w-]+)(?:@.*)?$")
_OWN_WORKFLOW = re.compile(rf"^{re.escape(MLGATE_REPO)}/(\.github/workflows/[\w.-]+\.yml)@")
_STEP_OUTPUT = re.compile(r"steps\.([\w-]+)\.outputs\.([\w-]+)")


def _jobs(doc: YamlFile) -> dict[str, Any]:
    if "runs" in doc.data:
        return {"(action)": {"steps": doc.data["runs"]["steps"]}}
    return dict(doc.data.get("jobs", {}))


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_our_actions_are_called_with_their_real_inputs_and_outputs(path: Any) -> None:
    """Every `uses:` of one of our actions passes only inputs it declares (and every required
    one), and every `steps.ID.outputs.NAME` of such a step is an output the action declares."""
    import yaml

    for job_name, job in _jobs(load(path)).items():
        outputs_of: dict[str, set[str]] = {}
        for step in job.get("steps", []):
            match = _OWN_ACTION.match(step.get("uses", ""))
            if match is None:
                continue
            spec = load(ROOT / "actions" / match.group(1) / "action.yml").data
            declared = spec.get("inputs", {})
            given = set(step.get("with") or {})
            where = f"{job_name}: {step['uses']}"
            assert given <= set(declared), f"{where}: no inputs {sorted(given - set(declared))}"
            required = {k for k, v in declared.items() if v.get("required")}
            assert required <= given, f"{where}: missing {sorted(required - given)}"
            if "id" in step:
                outputs_of[step["id"]] = set(spec.get("outputs", {}))
        text = yaml.safe_dump(job, width=10_000)
        for step_id, name in _STEP_OUTPUT.findall(text):
            if step_id in outputs_of:
                assert name in outputs_of[step_id], f"{job_name}: {step_id} has no output {name}"


@pytest.mark.parametrize("path", [*WORKFLOWS, *TEMPLATES], ids=ids([*WORKFLOWS, *TEMPLATES]))
def test_our_reusable_workflows_are_called_with_their_real_inputs(path: Any) -> None:
    for job_name, job in load(path).data.get("jobs", {}).items():
        match = _OWN_WORKFLOW.match(job.get("uses", ""))
        if match is None:
            continue
        declared = load(ROOT / match.group(1)).triggers["workflow_call"]["inputs"]
        given = set(job.get("with") or {})
        assert given <= set(declared), f"{job_name}: no inputs {sorted(given - set(declared))}"


def test_the_interface_checks_see_every_use_of_our_actions() -> None:
    """The two tests above are not vacuous: the workflows do call our actions with outputs."""
    uses = [
        s["uses"]
        for p in [*WORKFLOWS, *TEMPLATES]
        for s in steps_of(load(p))
        if _OWN_ACTION.match(s.get("uses", ""))
    ]
    names = {_OWN_ACTION.match(u).group(1) for u in uses}  # type: ignore[union-attr]
    assert {"setup", "plan", "check", "release", "promote", "report", "registry"} <= names
