"""Session fixtures for the workflows under act: the mlgate checkout under test (a snapshot of
this working tree), a wheelhouse built once per run and offered with PIP_FIND_LINKS, one act
home, the fake GitHub on loopback, a Docker engine with a registry (htpasswd), and user
repositories made by ``mlgate init`` with a bare ``origin``."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from mlgate import proc
from tests.actions.act import Act, find_kit
from tests.github.fake import OWNER, REPO, FakeGitHub
from tests.workflow_files import ROOT

GIT = ["git", "-c", "user.name=mlgate actions", "-c", "user.email=actions@example.com",
       "-c", "commit.gpgSign=false", "-c", "tag.gpgSign=false"]  # fmt: skip
ORIGIN_URL = f"https://github.com/{OWNER}/{REPO}.git"
TOKEN = "ghs_act_fake_token_0123456789abcdef"
REMOTE_NAME = "github"
# Seconds all act runs of a session may take together (about 8 min idle, 25 under heavy load).
ENV_BUDGET = "MLGATE_ACT_BUDGET"
DEFAULT_BUDGET = 2400


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.actions)


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return proc.run([*GIT, *args], cwd=repo, env=env).stdout.strip()


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("actions")


@pytest.fixture(scope="session")
def checkout(base: Path) -> Path:
    """The mlgate source under test (tracked and new files of this tree), committed in a
    repository of its own: what `mlgate-dev/mlgate/...@v0.1.0` resolves to."""
    listed = proc.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT
    ).stdout
    dest = base / "mlgate"
    for rel in sorted(set(filter(None, listed.split("\0")))):
        source = ROOT / rel
        if source.is_symlink():  # templates/ -> src/mlgate/starter, which the runner kit reads
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).symlink_to(source.readlink())
        elif source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "under test"]):
        git(dest, *args)
    git(dest, "remote", "add", REMOTE_NAME, "https://github.com/mlgate-dev/mlgate.git")
    return dest


@pytest.fixture(scope="session")
def wheelhouse(base: Path, checkout: Path) -> Path:
    """Every wheel the user workflows install (mlgate's dependencies with the serve extra, the
    starter's pins, pip and the build backend), downloaded once per run."""
    from mlgate.starter import render_starter

    folder = base / "wheelhouse"
    requirements = base / "starter-requirements.txt"
    requirements.write_bytes(render_starter()["requirements.txt"])
    proc.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--prefer-binary", "--dest", str(folder), "pip", "hatchling",
         f"{checkout}[serve]", "-r", str(requirements)],
        timeout=1800,
    )  # fmt: skip
    for built in folder.glob("mlgate-*"):
        built.unlink()  # mlgate itself always comes from the checkout under test
    return folder


@pytest.fixture(scope="session")
def act(base: Path, checkout: Path, wheelhouse: Path) -> Iterator[Act]:
    """One act home per session (its tool cache and caches); act itself is installed once per
    machine in the kit's default home and linked here."""
    kit = find_kit(ROOT)
    home = Path(os.environ["ACT_HOME"]) if os.environ.get("ACT_HOME") else base / "act-home"
    home.mkdir(parents=True, exist_ok=True)
    shared = Path.home() / ".cache" / "mlgate-act" / "venv"
    if not (home / "venv").exists() and (shared / "bin" / "act").exists():
        (home / "venv").symlink_to(shared)
    links = " ".join(filter(None, [str(wheelhouse), os.environ.get("PIP_FIND_LINKS", "")]))
    runner = Act(kit, home, checkout, {"NO_COLOR": "1", "PIP_FIND_LINKS": links}, REMOTE_NAME)
    runner.deadline = time.monotonic() + float(os.environ.get(ENV_BUDGET, DEFAULT_BUDGET))
    yield runner
    lines = [f"{label}: {run.seconds:.0f} s, jobs {run.jobs}" for label, run in runner.runs]
    (base / "timings.txt").write_text("\n".join(lines) + "\n")
    print("\nact runs:\n  " + "\n  ".join(lines))


@pytest.fixture(scope="session")
def github() -> Iterator[FakeGitHub]:
    """The fake GitHub for the whole session, every request validated against the OpenAPI
    subset; tests read what it received and the session fails on any violation."""
    api, uploads, storage = HTTPServer(host="127.0.0.1"), HTTPServer(host="127.0.0.1"), None
    api.start()
    uploads.start()
    fake = FakeGitHub(api, uploads, storage, token=TOKEN).start()
    try:
        yield fake
    finally:
        api.stop()
        uploads.stop()
    assert fake.violations == [], "requests that break GitHub's OpenAPI description"


@pytest.fixture(scope="session")
def offline_pip(wheelhouse: Path) -> dict[str, str]:
    """pip in the user workflows installs from the wheelhouse only."""
    return {"PIP_NO_INDEX": "1"}


def _train_env() -> dict[str, str]:
    """The environment `mlgate train` and `mlgate lock` run in here: this interpreter's folder
    first on PATH, so the starter trains with (and the lock records) the Python the pins are
    rendered from, as a user's activated virtual environment would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MLGATE_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.fixture(scope="session")
def starter(base: Path) -> Path:
    """``mlgate init``, trained with this interpreter (the starter's pins are its versions),
    locked and committed on main: made once, each test module works on a copy of it."""
    from mlgate.starter import InitRequest, init_project

    repo = base / "starter"
    init_project(InitRequest(repo))
    env = _train_env()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    proc.run([sys.executable, "-m", "mlgate", "train"], cwd=repo, env=env, timeout=600)
    proc.run([sys.executable, "-m", "mlgate", "lock"], cwd=repo, env=env, timeout=600)
    git(repo, "add", "-A")
    git(repo, "add", "--force", "models/churn/artifacts")
    git(repo, "commit", "-qm", "Starter project from mlgate init")
    return repo


def make_user_repo(folder: Path, starter: Path) -> Path:
    """A user repository of its own (a copy of the starter's), with ``origin`` a bare
    repository behind GitHub's URL."""
    repo = folder / "models"
    shutil.copytree(starter, repo, symlinks=True)
    origin = folder / "origin.git"
    proc.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)])
    # origin is the bare repository the workflows push tags to; act names the repository
    # (GITHUB_REPOSITORY) from the remote called "github", which carries GitHub's URL.
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "remote", "add", REMOTE_NAME, ORIGIN_URL)
    git(repo, "push", "-q", "origin", "main")
    return repo


def retrain(repo: Path, old: str, new: str, message: str) -> str:
    """Change the starter's parameters, retrain, relock and commit; returns the commit."""
    params = repo / "models" / "churn" / "params.yaml"
    text = params.read_text()
    assert old in text, text
    params.write_text(text.replace(old, new))
    env = _train_env()
    proc.run([sys.executable, "-m", "mlgate", "train"], cwd=repo, env=env, timeout=600)
    proc.run([sys.executable, "-m", "mlgate", "lock"], cwd=repo, env=env, timeout=600)
    git(repo, "add", "-A")
    git(repo, "add", "--force", "models/churn/artifacts")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")
