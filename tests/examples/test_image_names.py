"""The example manifests name podkit's images exactly as images/images.env and the packages'
versions do (images/image.py), so what `make images` builds is what the manifests run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "examples").glob("*.yaml"))


def image_name(component: str) -> str:
    return subprocess.run(
        [sys.executable, str(ROOT / "images/image.py"), "name", component],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def podkit_images(path: Path) -> list[str]:
    found = []
    for doc in yaml.safe_load_all(path.read_text()):
        if doc and doc.get("kind") == "Pod":
            spec = doc["spec"]
            for container in spec.get("initContainers", []) + spec["containers"]:
                if "/podkit/" in container["image"]:
                    found.append(container["image"])
    return found


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_podkit_images_carry_the_one_name(path: Path) -> None:
    for image in podkit_images(path):
        component = image.rsplit("/", 1)[1].split(":")[0]
        assert image == image_name(component), path.name


def test_every_image_has_an_example_that_runs_it() -> None:
    used = {image for path in MANIFESTS for image in podkit_images(path)}
    for dockerfile in sorted((ROOT / "images").glob("*/Dockerfile")):
        assert image_name(dockerfile.parent.name) in used, dockerfile.parent.name
