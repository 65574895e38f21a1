"""Kubernetes manifests rendered for a stage, validated against the Kubernetes API schemas."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest

from mlgate.config.loader import load_config
from mlgate.config.model import Config
from mlgate.errors import UsageError
from mlgate.publish.k8s import RenderRequest, image_ref_from_payload, render

DIGEST = "sha256:" + "ab" * 32
IMAGE = f"ghcr.io/your-org/churn@{DIGEST}"


def starter_config(starter: Path) -> Config:
    return load_config(starter / "mlgate.yaml")


@pytest.mark.parametrize("version", ["1.28.0", "1.33.0"])
def test_rendered_manifests_are_valid_kubernetes_objects(starter: Path, version: str) -> None:
    result = render(RenderRequest(starter_config(starter), "churn", "prod", image=IMAGE))
    kinds = [m["kind"] for m in result.manifests]
    assert kinds == ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]
    for manifest in result.manifests:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_image_pinned_by_digest_and_probes_on_the_server_endpoints(starter: Path) -> None:
    result = render(RenderRequest(starter_config(starter), "churn", "staging", image=IMAGE,
                                  namespace="ml", replicas=3))  # fmt: skip
    deployment, service, *_ = result.manifests
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/ping"
    assert container["ports"][0]["containerPort"] == 8080
    assert deployment["metadata"]["namespace"] == "ml"
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["name"] == "churn-staging"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert result.source == "--image"


def test_an_image_not_pinned_by_digest_is_refused(starter: Path) -> None:
    with pytest.raises(UsageError, match="not pinned by digest"):
        render(RenderRequest(starter_config(starter), "churn", "prod", image="x:latest"))
    with pytest.raises(UsageError, match="not usable in Kubernetes names"):
        render(RenderRequest(starter_config(starter), "churn", "Prod_1", image=IMAGE))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"image": {"reference": "r/x:v1", "digest": DIGEST}}, f"r/x@{DIGEST}"),
        ({"image": {"repository": "r/x", "digest": DIGEST}}, f"r/x@{DIGEST}"),
        ({"image": f"r/x@{DIGEST}"}, f"r/x@{DIGEST}"),
        ({"image": "r/x", "image_digest": DIGEST}, f"r/x@{DIGEST}"),
        ({"image": "r/x:v1"}, None),
        ({}, None),
    ],
)
def test_image_reference_from_registration_payload(payload: dict, expected: str | None) -> None:
    assert image_ref_from_payload(payload) == expected


@pytest.mark.parametrize("version", ["1.28.0", "1.33.0"])
def test_capture_volume_autoscaler_and_disruption_budget(starter: Path, version: str) -> None:
    config = starter / "mlgate.yaml"
    text = config.read_text()
    assert "    publish:\n" in text
    config.write_text(
        text.replace(
            "    publish:\n",
            """    publish:
      capture: {sample: 0.25, hash: [region], exclude: [age], salt_secret: churn-salt,
                max_mb: 200}
      kubernetes: {replicas: 2, autoscaling: {max_replicas: 8, cpu_utilization: 60},
                   max_unavailable: 25%}
""",
            1,
        )
    )
    result = render(RenderRequest(load_config(config), "churn", "prod", image=IMAGE))
    for manifest in result.manifests:
        kubernetes_validate.validate(manifest, version, strict=True)
    deployment, _, autoscaler, budget = result.manifests
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["MLGATE_CAPTURE_DIR"] == "/var/lib/mlgate/capture"
    assert env["MLGATE_CAPTURE_SAMPLE"] == "0.25"
    assert env["MLGATE_CAPTURE_HASH"] == "region"
    assert env["MLGATE_CAPTURE_EXCLUDE"] == "age"
    assert env["MLGATE_CAPTURE_SALT"] == {"secretKeyRef": {"name": "churn-salt", "key": "salt"}}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["capture"] == "/var/lib/mlgate/capture"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["capture"]["emptyDir"]["sizeLimit"] == "264Mi"  # budget + one rotation
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert (autoscaler["spec"]["minReplicas"], autoscaler["spec"]["maxReplicas"]) == (2, 8)
    target = autoscaler["spec"]["metrics"][0]["resource"]["target"]
    assert target == {"type": "Utilization", "averageUtilization": 60}
    assert budget["spec"]["maxUnavailable"] == "25%"
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]

    claimed = config.read_text().replace("max_mb: 200}", "max_mb: 200, claim: churn-capture}")
    config.write_text(claimed)
    result = render(RenderRequest(load_config(config), "churn", "prod", image=IMAGE))
    volumes = {v["name"]: v for v in result.manifests[0]["spec"]["template"]["spec"]["volumes"]}
    assert volumes["capture"]["persistentVolumeClaim"] == {"claimName": "churn-capture"}


def test_no_capture_unless_configured(starter: Path) -> None:
    result = render(RenderRequest(starter_config(starter), "churn", "prod", image=IMAGE))
    (container,) = result.manifests[0]["spec"]["template"]["spec"]["containers"]
    assert not [e for e in container["env"] if e["name"].startswith("MLGATE_CAPTURE")]
    assert result.manifests[2]["spec"]["minReplicas"] == 2  # the Deployment's replicas
