"""The one entry point for development: tests, lint, demo (the main job)."""

from __future__ import annotations

import os
import shutil
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
    args = session.posargs or ["-n", "auto", "--durations=15"]
    session.run("pytest", *args)


GTO_VERSION = "1.10.1"


def gto_venv(session: nox.Session) -> Path:
    """GTO in a virtual environment of its own (never the test one), for the registry's
    compatibility tests and benchmark; created once under .nox/gto and reused."""
    venv = ROOT / ".nox" / "gto"
    marker = venv / f".gto-{GTO_VERSION}"
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        session.run("python", "-m", "venv", str(venv), silent=True)
        pip = str(venv / "bin" / "python")
        session.run(pip, "-m", "pip", "install", "--quiet", f"gto=={GTO_VERSION}", external=True)
        marker.write_text(GTO_VERSION + "\n")
    return venv


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (broad rule set) and mypy --strict on src/."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", "src", "tests", "noxfile.py", "templates")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")
    session.run("mypy")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: the starter project end to end, in a fresh temporary folder."""
    session.install("-e", ".")
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
        self.registry()
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

        self.step("train the starter model")
        self.session.chdir(self.model_dir)
        self.session.run("python", "train.py")
        self.session.chdir(self.project)
        self.produced.append(("trained model", self.model_dir / "artifacts" / "model.skops"))

    def registry(self) -> None:
        self.step("model registry in annotated git tags: register, promote, pushed to a remote")
        remote = self.project.parent / "registry-origin.git"
        self.git("init", "--quiet", "--bare", "--initial-branch=main", str(remote))
        self.git("remote", "add", "origin", str(remote))
        self.git("add", "--all")
        self.git("commit", "--quiet", "--message", "Train the churn model")
        self.git("push", "--quiet", "origin", "main")
        self.mlgate("registry", "register", "churn", "--version", "v1.0.0", "--push")
        self.mlgate("registry", "assign", "churn", "v1.0.0", "staging", "--push")
        self.mlgate("registry", "assign", "churn", "v1.0.0", "prod", "--push")

        self.step("a second version: retrain with another seed, register, promote")
        self.session.chdir(self.model_dir)
        self.session.run("python", "train.py", env={"MLGATE_SEED": "7"})
        self.session.chdir(self.project)
        self.git("commit", "--quiet", "--all", "--message", "Retrain the churn model (seed 7)")
        self.git("push", "--quiet", "origin", "main")
        self.mlgate("registry", "register", "churn", "--bump", "minor", "--push")
        self.mlgate("registry", "assign", "churn", "v1.1.0", "staging", "--push")
        self.mlgate("registry", "assign", "churn", "v1.1.0", "prod", "--push")

        self.step("roll prod back to the version that held it before")
        self.mlgate("registry", "rollback", "churn", "prod", "--push")
        self.mlgate("registry", "resolve", "churn#prod")
        self.mlgate("registry", "history", "churn")
        self.mlgate("registry", "show", "--remote", "origin")
        self.produced.append(("registry remote (annotated tags)", remote))

    def summary(self) -> None:
        width = max(len(label) for label, _ in self.produced)
        lines = [f"  {label.ljust(width)}  {path}" for label, path in self.produced]
        print("\nmlgate demo finished. It produced:\n" + "\n".join(lines))
