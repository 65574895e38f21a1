"""Fault injection against real systems: a registry that answers 5xx (then recovers, or never
does), and a Docker engine stopped in the middle of a build.

The registry faults come from a proxy in front of the session's registry (faultproxy.py); the
engine that is stopped is a private ``dockerd`` started for the test, never the shared one.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate import proc
from tests.conftest import invoke
from tests.e2e import infra
from tests.e2e.conftest import GIT, make_project_with_remote
from tests.e2e.faultproxy import MANIFEST, NEVER, FaultProxy, Faults

pytestmark = pytest.mark.e2e
pytest.importorskip("mlgate.registry", reason="the registry (issue #5) is not merged yet")

REPOSITORY = "your-org/churn"  # the starter's publish.image, under --registry HOST


def git(project: Path, *args: str) -> str:
    return proc.run([*GIT, *args], cwd=project).stdout


def tags(project: Path) -> tuple[set[str], set[str]]:
    """Tags in the project and on its remote."""
    local = set(git(project, "tag", "--list").split())
    listed = git(project, "ls-remote", "--tags", "origin").splitlines()
    remote = {line.split("refs/tags/")[1] for line in listed if "^{}" not in line}
    return local, remote


def payload(project: Path, tag: str) -> dict:
    message = git(project, "tag", "--list", "--format=%(contents)", tag)
    return json.loads(message[message.index("{") :])


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its sha256 (the user's view of the repository)."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files}  # fmt: skip


# -- the registry answers 5xx ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "blob_uploads", "manifests"),
    [
        # A layer upload refused (docker retries it itself) and the manifest refused once (mlgate
        # retries the push). Which blob fails first is docker's choice: a layer, or the image
        # config when every layer is already there, so one manifest fault keeps both orders
        # inside the default 3 attempts.
        (500, 1, 1),
        # The manifest refused twice: the push succeeds on the last attempt allowed.
        (503, 0, 2),
    ],
)
def test_release_retries_a_registry_answering_5xx_and_records_the_pushed_digest(
    tmp_path: Path,
    base_image: str,
    credentials: infra.Registry,
    status: int,
    blob_uploads: int,
    manifests: int,
) -> None:
    project = make_project_with_remote(tmp_path)
    faults = Faults(blob_uploads=blob_uploads, manifests=manifests, status=status)
    with FaultProxy(credentials.host, faults) as proxy:
        out = invoke("release", "--base-image", base_image, "--registry", proxy.host, "--json",
                     cwd=project)  # fmt: skip
    infra.remove_images(proxy.host)
    assert out.exit_code == 0, out.output
    assert (faults.count("blob"), faults.count("manifest")) == (blob_uploads, manifests)

    retried = [line for line in out.stderr.splitlines() if line.startswith("push: attempt ")]
    assert retried, out.stderr
    assert all(f"{proxy.host}/{REPOSITORY}" in line for line in retried)
    assert any(str(status) in line for line in retried)
    assert retried[-1].startswith(f"push: attempt {len(retried)} of 3 failed")
    if blob_uploads and len(retried) == manifests:  # a layer's refusal: docker said it retried
        assert "Retrying in" in out.stderr

    result = json.loads(out.stdout)
    digest = result["image"]["digest"]
    assert digest.startswith("sha256:")
    # The digest recorded everywhere is the one the real registry holds for the version.
    assert credentials.manifest_digest(REPOSITORY, "v0.0.1") == digest
    assert payload(project, "churn@v0.0.1")["image"] == {
        "reference": f"{proxy.host}/{REPOSITORY}:v0.0.1",
        "digest": digest,
    }
    record = json.loads((project / ".mlgate/out/churn/publish.json").read_text())
    assert record["digest"] == digest
    assert tags(project) == ({"churn@v0.0.1"}, {"churn@v0.0.1"})


def test_release_against_a_registry_that_never_recovers_gives_up_and_registers_nothing(
    tmp_path: Path, base_image: str, credentials: infra.Registry
) -> None:
    project = make_project_with_remote(tmp_path)
    held = credentials.manifest_digest(REPOSITORY, "v0.0.1")  # the session's registry is shared
    faults = Faults(manifests=NEVER, status=503)
    with FaultProxy(credentials.host, faults) as proxy:
        out = invoke("release", "--base-image", base_image, "--registry", proxy.host,
                     cwd=project)  # fmt: skip
    infra.remove_images(proxy.host)
    assert out.exit_code == 3, out.output
    assert faults.count("manifest") == 3  # bounded: the default push_attempts
    error = out.stderr[out.stderr.index("error:") :]
    assert "gave up after 3 attempts" in error
    assert f"push of {proxy.host}/{REPOSITORY} failed" in error
    assert "503 Service Unavailable" in error
    assert f"is the registry {proxy.host} up and reachable? Rerun once it is" in error
    assert "churn v0.0.1 was not registered: the registry is unchanged" in error
    assert "Traceback" not in out.stderr
    assert tags(project) == (set(), set())
    assert faults.succeeded("PUT", MANIFEST) == 0  # no manifest reached the registry
    assert credentials.manifest_digest(REPOSITORY, "v0.0.1") == held
    assert not (project / ".mlgate/out/churn/publish.json").exists()


# -- the Docker engine is stopped mid-build ----------------------------------------------------


@pytest.fixture
def private_engine(base_image: str) -> Iterator[infra.PrivateEngine]:
    """A dockerd of this test's own, holding a copy of the base image; removed afterwards."""
    engine = infra.PrivateEngine.start()
    try:
        engine.load(base_image)
        yield engine
    finally:
        engine.remove()


def test_release_with_the_engine_stopped_mid_build_exits_3_and_leaves_no_trace(
    tmp_path: Path, base_image: str, private_engine: infra.PrivateEngine
) -> None:
    project = make_project_with_remote(tmp_path)
    before = snapshot(project)
    temp = tmp_path / "tmp"  # the release's own temporary folder (build context)
    temp.mkdir()
    log = tmp_path / "release.log"
    env = {**os.environ, "DOCKER_HOST": private_engine.host, "TMPDIR": str(temp)}
    never_contacted = f"127.0.0.1:{infra.free_port()}"
    command = [sys.executable, "-m", "mlgate", "release", "--base-image", base_image,
               "--registry", never_contacted, "--no-github-release"]  # fmt: skip
    with log.open("wb") as sink:
        release = subprocess.Popen(command, cwd=project, env=env, stdout=sink, stderr=sink)
    try:

        def building() -> bool:
            """The build has begun (its log says so) and a build step's container runs."""
            text = log.read_text(errors="replace")
            started = "docker build " in text and "\nStep " in text
            return release.poll() is not None or (
                started and bool(private_engine.running_containers())
            )

        infra.wait_until(building, 600, "a running build step in the private engine")
        assert release.poll() is None, log.read_text()
        at_stop = log.read_text(errors="replace")
        assert "Successfully built" not in at_stop
        step = [line for line in at_stop.splitlines() if line.startswith("Step ")][-1]
        private_engine.stop()
        code = release.wait(timeout=300)
    finally:
        if release.poll() is None:
            release.kill()
            release.wait()
    output = log.read_text(errors="replace")
    assert code == 3, output
    error = output[output.index("error:") :]
    assert "the Docker engine went away during the build of " in error, f"stopped at {step}"
    assert f"it no longer answers at {private_engine.host}" in error
    assert "hint: start the Docker engine again" in error
    assert "nothing was pushed or registered" in error
    assert "churn v0.0.1 was not registered: the registry is unchanged" in error
    assert "internal error" not in output
    assert "Traceback" not in output

    assert tags(project) == (set(), set())
    after = snapshot(project)
    # Only cache entries are new (the base image and training environment probes); nothing in
    # .mlgate/out, no temp files.
    assert all(path.startswith(".mlgate/cache/") for path in set(after) - set(before))
    assert {k: after[k] for k in before} == before
    assert not any(name.endswith(".tmp") for name in after)
    assert json.loads((project / ".mlgate/cache/base-images.json").read_text())
    assert git(project, "status", "--porcelain") == ""
    assert list(temp.iterdir()) == []  # the build context was removed
    assert proc.run(["docker", "info"], check=False).ok  # the shared engine is untouched
