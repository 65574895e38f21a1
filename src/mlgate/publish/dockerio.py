"""The one module that talks to the Docker engine (docker SDK), with errors that say what to do.

The SDK's streaming calls (build, push, pull) report failures as chunks in the stream rather than
exceptions; every stream here is read to the end and any error chunk becomes an ExternalError.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import ExternalError, UsageError

Progress = Callable[[str], None]
ENV_USERNAME = "MLGATE_REGISTRY_USERNAME"
ENV_PASSWORD = "MLGATE_REGISTRY_PASSWORD"  # noqa: S105 - the name of a variable
# Worth another attempt: the network, or the registry answering 5xx (a 500 is usually a storage
# back end's hiccup; docker itself retries layer uploads on it). Status codes match as whole
# numbers, so a port such as :50312 in the message is not mistaken for a 503.
_TRANSIENT = re.compile(
    r"connection refused|connection reset|i/o timeout|timeout|tls handshake|no such host|"
    r"temporary failure|\beof\b|\b50[0234]\b|too many requests|toomanyrequests|"
    r"server misbehaving|internal server error|service unavailable|bad gateway|broken pipe",
    re.IGNORECASE,
)
_AUTH = re.compile(r"unauthorized|authentication required|denied|forbidden|\b40[13]\b", re.I)


# Build output kept for error messages but not shown as progress.
_NOISE = (" ---> ", "Removing intermediate container")
NOTHING_SHIPPED = "nothing was pushed or registered"
PUSH_INTERRUPTED = "the push did not finish; layers already uploaded are reused next time"


class PushFailed(ExternalError):
    """A push error chunk; ``transient`` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.transient = transient


class EngineGone(ExternalError):
    """The Docker engine stopped answering in the middle of a step (stopped, restarted, crashed)."""


def engine_answers(engine: Any) -> bool:
    """Whether the engine still answers a ping (a stopped engine refuses it at once)."""
    import docker.errors
    import requests

    try:
        # On a new connection: an engine shutting down refuses those at once, but still answers
        # on keep-alive connections pooled from earlier calls (closing the pool drops them).
        engine.close()
        return bool(engine.ping())
    except (docker.errors.DockerException, requests.RequestException, OSError):
        return False


def engine_gone(what: str, cause: str, *, after: str = NOTHING_SHIPPED) -> EngineGone:
    """The error for an engine that went away during ``what``; ``after`` says what is left."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return EngineGone(
        f"the Docker engine went away during {what}: it no longer answers at {host}",
        hint="start the Docker engine again (dockerd, or 'systemctl start docker'), check that "
        f"DOCKER_HOST points at it, and rerun the command; {after}",
        details=[f"last error from the engine: {cause.strip()}"],
    )


@contextlib.contextmanager
def watching(engine: Any, what: str, *, after: str = NOTHING_SHIPPED) -> Iterator[None]:
    """Blame a failure inside the block on the engine when it no longer answers, whatever form
    the failure took (an error chunk, a broken stream, a refused connection); other SDK errors
    become ExternalError naming the step."""
    import docker.errors
    import requests

    try:
        yield
    except EngineGone:
        raise
    except Exception as exc:
        if not engine_answers(engine):
            cause = exc.message if isinstance(exc, ExternalError) else f"{exc}"
            raise engine_gone(what, cause or type(exc).__name__, after=after) from None
        if isinstance(exc, (docker.errors.DockerException, requests.RequestException)):
            raise ExternalError(f"docker failed during {what}: {exc}") from None
        raise


def client() -> Any:
    """A docker client from the environment (DOCKER_HOST, ...); unreachable engine -> exit 3."""
    try:
        import docker
    except ImportError:  # pragma: no cover - a core dependency
        raise UsageError("the docker SDK is not installed", hint="pip install docker") from None
    try:
        engine = docker.from_env(timeout=300)
        engine.ping()
    except Exception as exc:  # the SDK raises several types for one cause
        raise ExternalError(
            f"cannot reach a Docker engine: {exc}",
            hint="start Docker (dockerd), or set DOCKER_HOST to a reachable engine",
        ) from None
    return engine


def engine_reachable() -> bool:
    try:
        client()
    except ExternalError:
        return False
    return True


def registry_auth() -> dict[str, str] | None:
    """Credentials from MLGATE_REGISTRY_USERNAME/_PASSWORD; None lets docker use its config."""
    user = os.environ.get(ENV_USERNAME)
    password = os.environ.get(ENV_PASSWORD)
    if user and password:
        return {"username": user, "password": password}
    if user or password:
        missing = ENV_PASSWORD if user else ENV_USERNAME
        raise UsageError(f"{missing} is not set but its partner is; set both or neither")
    return None


def image_exists(engine: Any, ref: str) -> bool:
    import docker.errors

    try:
        engine.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def ensure_image(engine: Any, ref: str, progress: Progress) -> None:
    """Pull ``ref`` unless it is already present locally."""
    if image_exists(engine, ref):
        return
    progress(f"pulling base image {ref}")
    repo, tag = _split_ref(ref)
    _consume(engine.api.pull(repo, tag=tag, stream=True, decode=True), f"pull {ref}", progress)
    if not image_exists(engine, ref):
        raise ExternalError(f"pulling {ref} reported success but the image is not there")


def probe_python(engine: Any, image: str) -> dict[str, Any]:
    """Python version, machine and glibc of ``image``, by running ``python3`` in it once."""
    code = (
        "import json,platform,sys;"
        "print(json.dumps({'python':'%d.%d'%sys.version_info[:2],"
        "'machine':platform.machine(),'libc':platform.libc_ver()}))"
    )
    import docker.errors

    try:
        out = engine.containers.run(
            image, ["-c", code], entrypoint="python3", remove=True, network_mode="none"
        )
    except docker.errors.ContainerError as exc:
        raise ExternalError(
            f"base image {image} cannot run python3: {exc}",
            hint="the base image needs python3 with the venv module (e.g. python:3.11-slim)",
        ) from None
    except docker.errors.APIError as exc:
        raise ExternalError(f"cannot run base image {image}: {exc.explanation or exc}") from None
    data: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return data


def build(
    engine: Any,
    context: Path,
    *,
    tag: str,
    progress: Progress,
    no_cache: bool = False,
) -> str:
    """Build ``context`` (no network: everything comes from the wheelhouse); the image id.
    Labels are in the Dockerfile (one instruction, last)."""
    stream = engine.api.build(
        path=str(context),
        tag=tag,
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
        network_mode="none",
        nocache=no_cache,
    )
    image_id: str | None = None
    for chunk in _consume(stream, f"build {tag}", progress, keep=True):
        aux = chunk.get("aux")
        if isinstance(aux, dict) and "ID" in aux:
            image_id = aux["ID"]
    if image_id is None:
        image_id = engine.images.get(tag).id
    return str(image_id)


def push(engine: Any, repository: str, tag: str, progress: Progress) -> str:
    """Push ``repository:tag`` once; the pushed manifest digest. Error chunks raise PushFailed."""
    auth = registry_auth()
    digest: str | None = None
    error: str | None = None
    try:
        stream = engine.api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth)
        for chunk in stream:  # to the end, even after an error: that releases the connection
            error = error or _error_of(chunk)
            aux = chunk.get("aux")
            if isinstance(aux, dict) and aux.get("Digest"):
                digest = str(aux["Digest"])
            status = chunk.get("status")
            if status and not chunk.get("progressDetail"):
                progress(f"push: {chunk.get('id', '') + ': ' if chunk.get('id') else ''}{status}")
        if error:
            raise _push_error(error, repository)  # noqa: TRY301 - handled below like the rest
    except Exception as exc:  # error chunks, requests/docker errors mid-stream
        failed = exc if isinstance(exc, PushFailed) else _push_error(str(exc), repository)
        if failed.transient and not engine_answers(engine):
            # Retrying a push through an engine that is gone cannot help; say which one it is.
            raise engine_gone(f"the push of {repository}:{tag}", failed.message,
                              after=PUSH_INTERRUPTED) from None  # fmt: skip
        raise failed from None
    if digest is None:
        raise PushFailed(f"push of {repository}:{tag} ended without a digest", transient=True)
    return digest


def _push_error(message: str, repository: str) -> PushFailed:
    registry = repository.split("/", 1)[0]
    if _AUTH.search(message):
        return PushFailed(
            f"the registry refused the push of {repository}: {message}",
            transient=False,
            hint=f"check the credentials for {registry}: {ENV_USERNAME}/{ENV_PASSWORD}, "
            "or 'docker login " + registry + "'",
        )
    transient = bool(_TRANSIENT.search(message))
    hint = f"is the registry {registry} up and reachable? Rerun once it is"
    return PushFailed(
        f"push of {repository} failed: {message}",
        transient=transient,
        hint=hint if transient else None,
    )


def pull(engine: Any, ref: str, progress: Progress) -> None:
    repo, tag = _split_ref(ref)
    stream = engine.api.pull(repo, tag=tag, stream=True, decode=True, auth_config=registry_auth())
    _consume(stream, f"pull {ref}", progress)


def tag_image(engine: Any, source: str, repository: str, tag: str) -> None:
    if not engine.api.tag(source, repository, tag=tag):
        raise ExternalError(f"could not tag {source} as {repository}:{tag}")


def inspect(engine: Any, ref: str) -> dict[str, Any]:
    import docker.errors

    try:
        attrs: dict[str, Any] = engine.api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        raise ExternalError(f"image {ref} not found in the Docker engine") from None
    return attrs


def remove_image(engine: Any, ref: str) -> None:
    import docker.errors

    try:
        engine.api.remove_image(ref, force=True)
    except docker.errors.APIError:
        return


@dataclass
class Running:
    """A started container and how to reach it."""

    container: Any
    url: str

    def status(self) -> str:
        self.container.reload()
        return str(self.container.status)

    def logs(self, lines: int = 40) -> str:
        raw = self.container.logs(tail=lines)
        return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)

    def stop(self) -> None:
        import docker.errors

        try:
            self.container.remove(force=True)
        except docker.errors.APIError:
            return


def run_server(
    engine: Any, image: str, *, container_port: int, host_port: int, network: str
) -> Running:
    """Start the image's server reachable on 127.0.0.1:host_port (host network or a mapping)."""
    if network == "host":
        container = engine.containers.run(
            image,
            detach=True,
            network_mode="host",
            environment={"MLGATE_PORT": str(host_port), "MLGATE_HOST": "127.0.0.1"},
        )
    else:
        container = engine.containers.run(
            image, detach=True, ports={f"{container_port}/tcp": ("127.0.0.1", host_port)}
        )
    return Running(container, f"http://127.0.0.1:{host_port}")


def _consume(
    stream: Iterable[dict[str, Any]], what: str, progress: Progress, *, keep: bool = False
) -> list[dict[str, Any]]:
    """Read a streamed SDK response to the end (which releases its connection); an error chunk
    raises with the log's tail."""
    kept: list[dict[str, Any]] = []
    tail: list[str] = []
    error: str | None = None
    shown: list[str] | None = None
    try:
        for chunk in stream:
            if error is None and (error := _error_of(chunk)) is not None:
                shown = ["last output:", *tail[-15:]] if tail else None
            text = chunk.get("stream")
            if isinstance(text, str):
                for line in text.rstrip("\n").splitlines():
                    if line.strip():
                        tail.append(line)
                        if not line.startswith(_NOISE):
                            progress(line)
            elif chunk.get("status") and not chunk.get("progressDetail"):
                progress(str(chunk["status"]))
            if keep:
                kept.append(chunk)
    except Exception as exc:  # connection errors while streaming
        raise ExternalError(f"docker {what} failed: {exc}") from None
    if error is not None:
        raise ExternalError(f"docker {what} failed: {error.strip()}", details=shown)
    return kept


def _error_of(chunk: dict[str, Any]) -> str | None:
    """The error message of a streamed chunk, if it is an error chunk."""
    error = chunk.get("error") or (chunk.get("errorDetail") or {}).get("message")
    return str(error) if error else None


def _split_ref(ref: str) -> tuple[str, str | None]:
    if "@" in ref:
        repo, digest = ref.split("@", 1)
        return repo, digest
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = ref.rsplit(":", 1)
        return repo, tag
    return ref, "latest"
