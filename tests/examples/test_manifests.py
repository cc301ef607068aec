"""The example manifests: valid Kubernetes (strict schemas, 1.30) and written the way we preach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "examples").glob("*.yaml"))


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_there_are_examples() -> None:
    assert MANIFESTS, "examples/ holds no manifests"


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_valid_against_kubernetes_1_30_strict(path: Path) -> None:
    for doc in documents(path):
        kubernetes_validate.validate(doc, "1.30", strict=True)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_container_is_bounded_probed_and_locked_down(path: Path) -> None:
    pods = [doc for doc in documents(path) if doc["kind"] == "Pod"]
    assert pods, f"{path.name} has no Pod"
    for pod in pods:
        spec = pod["spec"]
        pod_context = spec.get("securityContext", {})
        for container in spec.get("initContainers", []) + spec["containers"]:
            name = f"{path.name}:{container['name']}"
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), name
            assert {"cpu", "memory"} <= set(resources.get("limits", {})), name
            context = container.get("securityContext", {})
            assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True, name
            assert context.get("readOnlyRootFilesystem") is True, name
            assert context.get("allowPrivilegeEscalation") is False, name
            assert context.get("capabilities", {}).get("drop") == ["ALL"], name
            if "podkit" in container["image"]:
                for probe in ("livenessProbe", "readinessProbe"):
                    path_probed = container[probe]["httpGet"]["path"]
                    assert path_probed in {"/healthz", "/readyz"}, name
