"""Real infrastructure for the e2e tests, the benchmarks and the demo: a Docker engine, a base
image built with debootstrap (no image is pulled), and a registry with htpasswd auth on loopback.

Usable as a script: ``python -m tests.e2e.infra engine|base-image|registry``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mlgate import proc

BASE_IMAGE = "mlgate-e2e/base:bookworm"
SUITE = "bookworm"
PACKAGES = "python3,python3-venv,ca-certificates"
SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))


def _ok(*args: str) -> bool:
    return proc.run(args, check=False, timeout=120).ok


def wait_until(predicate: object, timeout: float, what: str) -> None:
    """Poll ``predicate`` (a callable) until true; a service starting up, not event ordering."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout:g} s")
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


def ensure_engine(log_dir: Path | None = None) -> subprocess.Popen[bytes] | None:
    """A running Docker engine: start ``dockerd`` in the background when ``docker info`` fails.

    Returns the process when this call started it (the caller stops it), else None.
    """
    if _ok("docker", "info"):
        return None
    if shutil.which("dockerd") is None:
        raise RuntimeError("no Docker engine and no dockerd to start (apt-get install docker.io)")
    log_dir = log_dir or Path(tempfile.gettempdir())
    with (log_dir / "mlgate-e2e-dockerd.log").open("ab") as log:
        engine = subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
    try:
        wait_until(lambda: _ok("docker", "info"), 90, "dockerd")
    except RuntimeError:
        stop_engine(engine)
        raise
    return engine


def stop_engine(engine: subprocess.Popen[bytes]) -> None:
    """Stop a dockerd this test run started (SIGTERM lets it shut containers down cleanly)."""
    engine.terminate()
    try:
        engine.wait(timeout=60)
    except subprocess.TimeoutExpired:
        engine.kill()
        engine.wait()


@dataclass
class PrivateEngine:
    """A second ``dockerd`` beside the shared one, for tests that stop it mid-command.

    Everything that would collide with the shared engine is its own: socket, data root, exec root
    (and so its managed containerd), pid file, containerd namespaces and an empty daemon config
    (flags only, whatever /etc/docker/daemon.json says), no iptables rules, and a bridge of its
    own: with ``--bridge=none`` dockerd deletes ``docker0`` at start-up, which takes the shared
    engine's default network away (its containers then cannot start).
    """

    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"unix://{self.folder / 'docker.sock'}"

    @classmethod
    def start(cls) -> PrivateEngine:
        # A short folder under the temporary directory: unix socket paths hold 107 bytes.
        folder = Path(tempfile.mkdtemp(prefix="mlgate-engine-"))
        (folder / "daemon.json").write_text("{}\n")
        # containerd namespaces are letters and digits joined by single '.', '_' or '-': the
        # temporary folder's random suffix may hold '_' anywhere, so only a hash of it is used.
        suffix = hashlib.sha256(folder.name.encode()).hexdigest()[:10]
        namespace = f"mlgate-e2e-{suffix}"
        bridge = f"mlgbr{suffix}"  # interface names hold 15 bytes
        for ip in (["link", "add", bridge, "type", "bridge"], ["link", "set", bridge, "up"]):
            proc.run(["ip", *ip])
        (folder / "bridge").write_text(bridge)
        command = [
            "dockerd", "-H", f"unix://{folder / 'docker.sock'}",
            "--config-file", str(folder / "daemon.json"),
            "--data-root", str(folder / "data"), "--exec-root", str(folder / "exec"),
            "--pidfile", str(folder / "docker.pid"),
            "--containerd-namespace", namespace,
            "--containerd-plugins-namespace", namespace + "-plugins",
            "--bridge", bridge, "--iptables=false", "--ip6tables=false",
        ]  # fmt: skip
        engine = cls(folder)
        with (folder / "dockerd.log").open("ab") as log:
            engine.process = subprocess.Popen(
                command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
            )
        try:
            wait_until(engine.answering, 90, "the private dockerd")
        except RuntimeError as exc:
            log_tail = (folder / "dockerd.log").read_text(errors="replace")[-2000:]
            engine.remove()
            raise RuntimeError(f"{exc}; its log ends with:\n{log_tail}") from None
        return engine

    def docker(self, *args: str, timeout: float = 120) -> proc.Completed:
        return proc.run(["docker", "--host", self.host, *args], check=False, timeout=timeout)

    def answering(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        return self.docker("version", "--format", "{{.Server.Version}}", timeout=10).ok

    def running_containers(self) -> list[str]:
        return self.docker("ps", "--quiet", timeout=10).stdout.split()

    def load(self, image: str) -> None:
        """Copy ``image`` from the shared engine (``docker save | docker --host ... load``)."""
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        load = subprocess.Popen(["docker", "--host", self.host, "load", "--quiet"],
                                stdin=save.stdout, stdout=subprocess.DEVNULL)  # fmt: skip
        assert save.stdout is not None
        save.stdout.close()
        if load.wait(timeout=600) != 0 or save.wait(timeout=60) != 0:
            raise RuntimeError(f"copying {image} into the private engine failed")

    def stop(self) -> None:
        """SIGTERM, as ``systemctl stop docker`` sends; the engine stops its containers first."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def remove(self) -> None:
        """Stop the engine and delete its folder (mounts it left behind are unmounted first)."""
        self.stop()
        prefix = str(self.folder) + "/"
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
                  if line.split()[1].startswith(prefix)]  # fmt: skip
        for mount in sorted(mounts, key=len, reverse=True):
            proc.run(["umount", "--lazy", mount], check=False)
        bridge = self.folder / "bridge"
        if bridge.is_file():
            proc.run(["ip", "link", "delete", bridge.read_text()], check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (first ``URIs:``/``deb`` entry)."""
    for source in SOURCES:
        if not source.is_file():
            continue
        for line in source.read_text().splitlines():
            parts = line.split()
            if line.startswith("URIs:") and len(parts) > 1:
                return parts[1]
            if parts[:1] == ["deb"]:
                return next(p for p in parts[1:] if not p.startswith("["))
    raise RuntimeError("no Debian mirror configured in " + ", ".join(map(str, SOURCES)))


def ensure_base_image(name: str = BASE_IMAGE) -> str:
    """A minimal Debian image with python3 and venv, built with debootstrap (reused if present)."""
    if _ok("docker", "image", "inspect", name):
        return name
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is needed to build the base image (apt-get install it)")
    root = Path(tempfile.mkdtemp(prefix="mlgate-rootfs-"))
    try:
        proc.run(
            ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, str(root),
             debian_mirror()],
            timeout=1200,
        )  # fmt: skip
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        load = subprocess.Popen(["docker", "import", "-", name], stdin=tar.stdout,
                                stdout=subprocess.DEVNULL)  # fmt: skip
        assert tar.stdout is not None
        tar.stdout.close()
        if load.wait() != 0 or tar.wait() != 0:
            raise RuntimeError(f"importing the debootstrap root as {name} failed")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return name


def remove_images(host: str) -> None:
    """Remove the images the tests made for the loopback registry at ``host`` (``127.0.0.1:PORT``)
    and nothing else: a demo or another session's registry keeps its images."""
    listed = proc.run(["docker", "images", "--format", "{{.Repository}} {{.ID}}"], check=False)
    ids = sorted({
        line.split()[1] for line in listed.stdout.splitlines()
        if line.startswith(f"{host}/your-org/")
    })  # fmt: skip
    if ids:
        proc.run(["docker", "rmi", "--force", *ids], check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Registry:
    """``docker-registry serve`` on 127.0.0.1 with one htpasswd user; stop() ends it."""

    host: str
    username: str
    password: str
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, folder: Path, username: str = "mlgate") -> Registry:
        password = secrets.token_urlsafe(12)
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        htpasswd = proc.run(["htpasswd", "-Bbn", username, password]).stdout
        (folder / "htpasswd").write_text(htpasswd)
        (folder / "config.yml").write_text(
            "version: 0.1\n"
            "log: {level: warn}\n"
            f"storage: {{filesystem: {{rootdirectory: {folder / 'data'}}}}}\n"
            f"http: {{addr: '127.0.0.1:{port}'}}\n"
            f"auth: {{htpasswd: {{realm: mlgate-e2e, path: {folder / 'htpasswd'}}}}}\n"
        )
        with (folder / "registry.log").open("ab") as log:
            process = subprocess.Popen(
                ["docker-registry", "serve", str(folder / "config.yml")], stdout=log, stderr=log
            )
        registry = cls(f"127.0.0.1:{port}", username, password, folder, process)
        wait_until(registry.answering, 30, "docker-registry")
        return registry

    def answering(self) -> bool:
        try:
            urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2)
        except urllib.error.HTTPError as exc:
            return exc.code == 401
        except OSError:
            return False
        return True

    def catalog(self) -> list[str]:
        """Repositories in the registry (authenticated)."""
        import base64
        import json

        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            f"http://{self.host}/v2/_catalog", headers={"Authorization": f"Basic {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return list(json.load(response).get("repositories", []))

    def manifest_digest(self, repository: str, tag: str) -> str | None:
        """The digest the registry itself holds for ``repository:tag`` (None: no such tag)."""
        import base64

        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        accept = ", ".join((
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
        ))  # fmt: skip
        request = urllib.request.Request(
            f"http://{self.host}/v2/{repository}/manifests/{tag}",
            method="HEAD",
            headers={"Authorization": f"Basic {token}", "Accept": accept},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return str(response.headers["Docker-Content-Digest"])
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            self.process = None


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "base-image"
    ensure_engine()
    if what in ("base-image", "all"):
        print(ensure_base_image())
    if what == "registry":
        registry = Registry.start(Path(tempfile.mkdtemp(prefix="mlgate-registry-")))
        assert registry.process is not None, "Registry.start leaves its process running"
        print(f"{registry.host} {registry.username} {registry.password} pid={registry.process.pid}")
        os._exit(0)  # leave the registry running for the caller
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
