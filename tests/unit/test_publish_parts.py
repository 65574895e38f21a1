"""Publishing's pure parts: image naming, wheel platforms and pins, push retries and error
chunks, the smoke comparison, metrics exposition, the Dockerfile and the mlgate wheel."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from mlgate.errors import ConfigError, ExternalError, UsageError
from mlgate.publish import dockerio, push, wheelhouse
from mlgate.publish.metadata import SmokeSample
from mlgate.publish.settings import image_repository, sanitize_tag, split_registry
from mlgate.publish.smoke import compare
from mlgate.publish.wheels import repack
from mlgate.serve.metrics import Histogram


@pytest.mark.parametrize(
    ("image", "registry", "expected"),
    [
        ("ghcr.io/acme/churn", None, "ghcr.io/acme/churn"),
        ("ghcr.io/acme/churn", "127.0.0.1:5000", "127.0.0.1:5000/acme/churn"),
        ("acme/churn", "localhost:5000", "localhost:5000/acme/churn"),
        ("acme/churn:v1", None, "acme/churn"),
        ("registry.example.com:5000/team/x@sha256:abc", "https://ghcr.io/", "ghcr.io/team/x"),
    ],
)
def test_image_repository(image: str, registry: str | None, expected: str) -> None:
    assert image_repository(image, registry) == expected


def test_bad_registry_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not HOST\\[:PORT\\]"):
        image_repository("acme/churn", "not a host")


def test_split_registry_and_tags() -> None:
    assert split_registry("localhost/x") == ("localhost", "x")
    assert split_registry("acme/churn") == (None, "acme/churn")
    assert sanitize_tag("sha-abc+dirty") == "sha-abc-dirty"
    assert sanitize_tag("..") == "latest"


def test_target_platforms_cover_every_manylinux_the_glibc_accepts() -> None:
    tags = wheelhouse.Target("3.11", "x86_64", "2.36").platforms()
    assert tags[0] == "manylinux_2_36_x86_64"
    assert "manylinux_2_17_x86_64" in tags
    assert "manylinux2014_x86_64" in tags
    assert "manylinux_2_16_x86_64" not in tags
    with pytest.raises(ConfigError, match="no glibc"):
        wheelhouse.Target("3.11", "x86_64", None).platforms()


def _trained(starter: Path) -> tuple[Any, Any]:
    """The starter's model entry with a small skops model file in place."""
    from sklearn.linear_model import LogisticRegression

    from mlgate.config.loader import load_config
    from mlgate.modelio import save_model
    from mlgate.publish.settings import PublishSettings

    config = load_config(starter / "mlgate.yaml")
    model = config.model()
    save_model(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), model.model.file)
    return model, PublishSettings.from_model(config, model)


def test_without_requirements_the_pins_are_what_the_model_references(starter: Path) -> None:
    model, settings = _trained(starter)
    (starter / "requirements.txt").unlink()
    assert wheelhouse.model_modules(model) == ("numpy", "sklearn", "skops")
    reqs = wheelhouse.collect_requirements(model, settings)
    names = {line.split("==")[0] for line in reqs.lines}
    # The model's libraries with their dependencies, and what the server imports.
    for name in ("scikit-learn", "numpy", "scipy", "joblib", "threadpoolctl", "skops", "uvicorn"):
        assert f"{name}=={metadata.version(name)}" in reqs.lines
    assert "mlgate" not in names  # built from the running mlgate, never from the index
    assert "hypothesis" not in names  # installed here, but the model does not need it
    assert reqs.source == "the training environment"
    assert not any(c.split("==")[0] in names for c in reqs.constraints)


def test_requirement_lines_pinned_honoured_unpinned_resolved_or_left_out(starter: Path) -> None:
    model, settings = _trained(starter)
    (model.root / "requirements.txt").write_text(
        "# pins\nnumpy==1.0.0  # old\nclick\ndvclive>=3.0\n--index-url http://x\n"
        "tomli; python_version < '3.0'\nrequests[socks] == 2.0.0\n"
    )
    reqs = wheelhouse.collect_requirements(model, settings)
    assert "numpy==1.0.0" in reqs.lines  # pinned: honoured, with a note when training differs
    assert any(n.startswith("numpy: models/churn/requirements.txt pins 1.0.0") for n in reqs.notes)
    assert f"click=={metadata.version('click')}" in reqs.lines  # unpinned, needed (the server)
    assert not any(line.startswith(("dvclive", "tomli")) for line in reqs.lines)
    assert any("dvclive: not pinned" in note for note in reqs.notes)
    assert "requests[socks]==2.0.0" in reqs.lines
    assert reqs.source == "models/churn/requirements.txt"
    (model.root / "requirements.txt").write_text("numpy=1.0\n")
    with pytest.raises(ConfigError, match="not a valid requirement"):
        wheelhouse.collect_requirements(model, settings)


def test_constraints_pin_the_environment_but_not_requested_names() -> None:
    lines = wheelhouse.constraints(["numpy"])
    assert f"click=={metadata.version('click')}" in lines
    assert not any(line.startswith(("numpy==", "mlgate==")) for line in lines)


class FakeAPI:
    def __init__(self, streams: list[Iterable[dict[str, Any]]]) -> None:
        self.streams = streams
        self.calls = 0

    def push(self, *_: Any, **__: Any) -> Iterable[dict[str, Any]]:
        self.calls += 1
        return self.streams.pop(0)

    def build(self, **_: Any) -> Iterable[dict[str, Any]]:
        return self.streams.pop(0)


class FakeEngine:
    def __init__(self, streams: list[Iterable[dict[str, Any]]]) -> None:
        self.api = FakeAPI(streams)
        self.alive = True

    def close(self) -> None:
        return None

    def ping(self) -> bool:  # as docker.DockerClient.ping: raises when the engine is not there
        import requests

        if not self.alive:
            raise requests.ConnectionError("connect: connection refused")
        return True


OK_PUSH: list[dict[str, Any]] = [
    {"status": "The push refers to repository [r/x]"},
    {"status": "Pushed", "id": "abc"},
    {"aux": {"Tag": "v1", "Digest": "sha256:" + "a" * 64, "Size": 1}},
]
REFUSED: list[dict[str, Any]] = [
    {"errorDetail": {"message": "dial tcp 127.0.0.1:1: connect: connection refused"},
     "error": "dial tcp 127.0.0.1:1: connect: connection refused"}]  # fmt: skip
UNAUTHORIZED = [{"error": "unauthorized: authentication required"}]


def test_push_returns_the_digest_and_retries_transient_errors() -> None:
    engine = FakeEngine([REFUSED, list(OK_PUSH)])
    waits: list[float] = []
    lines: list[str] = []
    ref = push.push_with_retries(engine, "r/x", "v1", attempts=3, progress=lines.append,
                                 sleep=waits.append)  # fmt: skip
    assert ref == "r/x@sha256:" + "a" * 64
    assert waits == [1.0]
    assert any("attempt 1 of 3 failed" in line for line in lines)


def test_push_gives_up_after_bounded_attempts() -> None:
    engine = FakeEngine([REFUSED, REFUSED, REFUSED])
    waits: list[float] = []
    with pytest.raises(ExternalError, match="gave up after 3 attempts") as info:
        push.push_with_retries(engine, "r/x", "v1", attempts=3, progress=lambda _: None,
                               sleep=waits.append)  # fmt: skip
    assert info.value.exit_code == 3
    assert waits == [1.0, 2.0]


def test_authentication_errors_are_not_retried() -> None:
    engine = FakeEngine([UNAUTHORIZED, list(OK_PUSH)])
    with pytest.raises(dockerio.PushFailed, match="refused the push") as info:
        push.push_with_retries(engine, "127.0.0.1:5000/x", "v1", attempts=3,
                               progress=lambda _: None, sleep=lambda _: None)  # fmt: skip
    assert engine.api.calls == 1
    assert "MLGATE_REGISTRY_USERNAME" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("message", "transient"),
    [
        ("received unexpected HTTP status: 500 Internal Server Error", True),
        ("received unexpected HTTP status: 503 Service Unavailable", True),
        ("unexpected EOF", True),
        ("manifest invalid: manifest invalid", False),
        # a status code inside a port number is not a status code
        ("Put http://127.0.0.1:50312/v2/x/manifests/v1: manifest blob unknown", False),
    ],
)
def test_registry_errors_retried_are_the_transient_ones(message: str, transient: bool) -> None:
    assert dockerio._push_error(message, "127.0.0.1:5000/x").transient is transient


def test_a_port_that_contains_401_is_not_an_authentication_error() -> None:
    error = dockerio._push_error("dial tcp 127.0.0.1:40123: connect: connection refused",
                                 "127.0.0.1:40123/x")  # fmt: skip
    assert error.transient
    assert "refused the push" not in error.message


def test_a_registry_answering_500_is_retried_until_it_recovers() -> None:
    failed = [{"error": "received unexpected HTTP status: 500 Internal Server Error"}]
    engine = FakeEngine([failed, failed, list(OK_PUSH)])
    lines: list[str] = []
    ref = push.push_with_retries(engine, "r/x", "v1", attempts=3, progress=lines.append,
                                 sleep=lambda _: None)  # fmt: skip
    assert ref == "r/x@sha256:" + "a" * 64
    assert engine.api.calls == 3
    assert [line for line in lines if "retrying" in line][1].startswith("push: attempt 2 of 3")


def test_streams_are_read_to_the_end_after_an_error_chunk(tmp_path: Path) -> None:
    """An abandoned stream keeps its connection to the engine open (a ResourceWarning)."""
    finished: list[str] = []

    def stream(chunks: list[dict[str, Any]], name: str) -> Iterator[dict[str, Any]]:
        yield from chunks
        finished.append(name)

    failed = [{"error": "received unexpected HTTP status: 500 Internal Server Error"}]
    engine = FakeEngine([])
    engine.api.streams = [stream([*failed, {"status": "bye"}], "push")]
    with pytest.raises(dockerio.PushFailed, match="500 Internal Server Error"):
        dockerio.push(engine, "r/x", "v1", lambda _: None)
    engine.api.streams = [stream([{"error": "no space left"}, {"stream": "x"}], "build")]
    with pytest.raises(ExternalError, match="no space left"):
        dockerio.build(engine, tmp_path, tag="x:1", progress=lambda _: None)
    assert finished == ["push", "build"]


def test_a_push_stream_without_digest_is_an_error() -> None:
    with pytest.raises(dockerio.PushFailed, match="without a digest"):
        dockerio.push(FakeEngine([[{"status": "Preparing"}]]), "r/x", "v1", lambda _: None)


def test_build_error_chunk_raises_with_the_log_tail(tmp_path: Path) -> None:
    stream = [{"stream": "Step 1/2 : FROM base\n"}, {"stream": "pip: no matching wheel\n"},
              {"error": "The command returned a non-zero code: 1"}]  # fmt: skip
    with pytest.raises(ExternalError, match="non-zero code") as info:
        dockerio.build(FakeEngine([stream]), tmp_path, tag="x:1", progress=lambda _: None)
    assert "pip: no matching wheel" in info.value.details


def test_a_build_that_fails_because_the_engine_went_away_says_so(tmp_path: Path) -> None:
    stream = [
        {"stream": "Step 5/17 : RUN pip install\n"},
        {"error": "error creating overlay mount to /var/lib/docker/overlay2/x: invalid"},
    ]
    engine = FakeEngine([stream, list(stream)])
    engine.alive = False
    gone = pytest.raises(dockerio.EngineGone, match="went away during the build of x:1")
    with gone as info, dockerio.watching(engine, "the build of x:1"):
        dockerio.build(engine, tmp_path, tag="x:1", progress=lambda _: None)
    assert info.value.exit_code == 3
    assert "start the Docker engine again" in (info.value.hint or "")
    assert "nothing was pushed or registered" in (info.value.hint or "")
    assert "overlay mount" in info.value.details[0]
    engine.alive = True  # the same error from a live engine is the build's own failure
    failed = pytest.raises(ExternalError, match="docker build x:1 failed")
    with failed as alive, dockerio.watching(engine, "the build of x:1"):
        dockerio.build(engine, tmp_path, tag="x:1", progress=lambda _: None)
    assert not isinstance(alive.value, dockerio.EngineGone)


def test_sdk_errors_inside_a_watched_step_name_the_step() -> None:
    import docker.errors

    step = "the smoke test of x:1"
    named = pytest.raises(ExternalError, match=f"docker failed during {step}: boom")
    with named, dockerio.watching(FakeEngine([]), step):
        raise docker.errors.APIError("boom")
    # other errors are not dressed up
    with pytest.raises(ValueError, match="not docker"), dockerio.watching(FakeEngine([]), step):
        raise ValueError("not docker")


def test_a_push_through_an_engine_that_went_away_is_not_retried() -> None:
    engine = FakeEngine([REFUSED, list(OK_PUSH)])
    engine.alive = False
    with pytest.raises(dockerio.EngineGone, match="went away during the push of r/x:v1"):
        push.push_with_retries(engine, "r/x", "v1", attempts=3, progress=lambda _: None,
                               sleep=lambda _: None)  # fmt: skip
    assert engine.api.calls == 1


def test_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert dockerio.registry_auth() is None
    monkeypatch.setenv("MLGATE_REGISTRY_USERNAME", "u")
    with pytest.raises(UsageError, match="MLGATE_REGISTRY_PASSWORD is not set"):
        dockerio.registry_auth()
    monkeypatch.setenv("MLGATE_REGISTRY_PASSWORD", "p")
    assert dockerio.registry_auth() == {"username": "u", "password": "p"}


def test_smoke_comparison() -> None:
    sample = SmokeSample(["a"], [[1], [2]], "predict_proba", [[0.1, 0.9], [0.5, 0.5]])
    ok = compare(sample, [[0.1, 0.9], [0.5, 0.5 + 1e-12]], 1e-9, 1.0)
    assert ok.passed
    assert ok.max_abs_diff == pytest.approx(1e-12)
    bad = compare(sample, [[0.1, 0.9], [0.4, 0.6]], 1e-9, 1.0)
    assert bad.mismatches == 1
    assert "row 1" in bad.examples[0]
    assert compare(sample, [[0.1, 0.9]], 1e-9, 1.0).mismatches == 2
    labels = SmokeSample(["a"], [[1]], "predict", ["yes"])
    assert not compare(labels, ["no"], 1e-9, 1.0).passed


def test_histogram_is_cumulative_with_inclusive_bounds() -> None:
    hist = Histogram((0.1, 0.5, 1.0))
    for value in (0.1, 0.3, 2.0):
        hist.observe(value)
    lines = list(hist.lines("m"))
    assert lines[:4] == ['m_bucket{le="0.1"} 1', 'm_bucket{le="0.5"} 2', 'm_bucket{le="1.0"} 2',
                         'm_bucket{le="+Inf"} 3']  # fmt: skip
    assert lines[-1] == "m_count 3"


def test_repacked_wheel_is_byte_identical_and_installable_shape(tmp_path: Path) -> None:
    dist = metadata.distribution("click")
    first = repack(dist, tmp_path / "a")
    second = repack(dist, tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        record = zf.read(next(n for n in names if n.endswith("/RECORD"))).decode()
    assert "click/__init__.py" in names
    assert "click/__init__.py,sha256=" in record
    assert not any(n.endswith(("INSTALLER", "direct_url.json")) for n in names)


def test_settings_defaults_and_overrides(starter: Path) -> None:
    from mlgate.config.loader import load_config
    from mlgate.publish.settings import PublishSettings
    from mlgate.starter import running_python

    config = load_config(starter / "mlgate.yaml")
    model = config.model()
    settings = PublishSettings.from_model(config, model, registry="127.0.0.1:5000")
    assert settings.repository == "127.0.0.1:5000/your-org/churn"
    assert settings.base_image == f"python:{running_python()}-slim"  # the Python that trains
    assert (settings.port, settings.smoke_rows, settings.push_attempts) == (8080, 50, 3)
    other = PublishSettings.from_model(config, model, base_image="debian:12")
    assert other.base_image == "debian:12"


def test_publish_config_is_validated_with_its_location(starter: Path) -> None:
    from mlgate.config.loader import load_config

    path = starter / "mlgate.yaml"
    path.write_text(path.read_text().replace("base_image:", "base_imge:"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "base_imge" in info.value.render()
    assert "base_image" in info.value.render()


def test_context_only_needs_out(starter: Path) -> None:
    from mlgate.config.loader import load_config
    from mlgate.publish.core import PublishRequest, publish

    with pytest.raises(UsageError, match="--context-only needs --out"):
        publish(PublishRequest(load_config(starter / "mlgate.yaml"), context_only=True))


def test_dockerfile_orders_layers_dependencies_app_model(tmp_path: Path) -> None:
    from mlgate.publish.context import render_dockerfile
    from mlgate.publish.settings import PublishSettings

    house = wheelhouse.Wheelhouse(tmp_path, (tmp_path / "mlgate-0.1.0-py3-none-any.whl",),
                                  ("numpy==2.0.0",), cached=False)  # fmt: skip
    labels = {"org.opencontainers.image.version": "v1", "io.mlgate.note": 'say "hi"'}
    text = render_dockerfile(PublishSettings("r/x", base_image="base:1", port=9000), house, labels)
    assert text.rstrip().endswith('org.opencontainers.image.version="v1"')
    assert 'io.mlgate.note="say \\"hi\\"" \\\n' in text
    deps, app, model = (text.index(s) for s in ("COPY wheelhouse", "COPY app", "COPY model"))
    assert deps < app < model
    assert text.count("FROM base:1") == 2
    assert "EXPOSE 9000" in text
    assert 'ENTRYPOINT ["mlgate", "serve", "--model-dir", "/model"]' in text
    assert "USER 65532" in text
