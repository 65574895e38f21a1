"""Kubernetes manifests rendered for a stage, validated against the Kubernetes API schemas."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest

from mlgate.errors import UsageError
from mlgate.publish.k8s import RenderRequest, image_ref_from_payload, render

DIGEST = "sha256:" + "ab" * 32
IMAGE = f"ghcr.io/your-org/churn@{DIGEST}"


@pytest.mark.parametrize("version", ["1.28.0", "1.33.0"])
def test_rendered_manifests_are_valid_kubernetes_objects(starter: Path, version: str) -> None:
    result = render(RenderRequest(str(starter / "mlgate.yaml"), "churn", "prod", image=IMAGE))
    kinds = [m["kind"] for m in result.manifests]
    assert kinds == ["Deployment", "Service"]
    for manifest in result.manifests:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_image_pinned_by_digest_and_probes_on_the_server_endpoints(starter: Path) -> None:
    result = render(RenderRequest(str(starter / "mlgate.yaml"), "churn", "staging", image=IMAGE,
                                  namespace="ml", replicas=3))  # fmt: skip
    deployment, service = result.manifests
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
        render(RenderRequest(str(starter / "mlgate.yaml"), "churn", "prod", image="x:latest"))
    with pytest.raises(UsageError, match="not usable in Kubernetes names"):
        render(RenderRequest(str(starter / "mlgate.yaml"), "churn", "Prod_1", image=IMAGE))


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
