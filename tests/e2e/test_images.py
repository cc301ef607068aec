"""The built images: within their size targets, runnable with plain podman (the README's way),
non-root, without pip or apt, and movable to another store with save/load."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.pods import ROOT, image_name, podman, podman_env

COMPONENTS = sorted(p.parent.name for p in (ROOT / "images").glob("*/Dockerfile"))


def size_target(component: str) -> int | None:
    for line in (ROOT / "images/images.env").read_text().splitlines():
        if line.startswith(f"SIZE_TARGET_MB_{component}="):
            return int(line.split("=", 1)[1])
    return None


@pytest.mark.parametrize("component", COMPONENTS)
def test_image_runs_as_documented_and_is_slim(component: str) -> None:
    name = image_name(component)
    # the README: `source scripts/podman-env.sh` then a plain `podman run`
    shown = subprocess.run(
        ["bash", "-c", f"source scripts/podman-env.sh && podman run --rm {name} --version"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    size = int(podman("image", "inspect", "--format", "{{.Size}}", name).stdout)
    target = size_target(component)
    print(f"{name}: {size / 1e6:.0f} MB (target {target} MB)")
    if target is not None:
        assert size <= target * 1_000_000, f"{name} is {size / 1e6:.0f} MB, over {target} MB"
    user = podman("image", "inspect", "--format", "{{.Config.User}}", name).stdout.strip()
    assert user and not user.startswith("0"), user
    files = podman(
        "run", "--rm", "--entrypoint", "/opt/podkit/bin/python", name, "-c",
        "import os, shutil; print(' '.join(t for t in ('pip', 'pip3', 'apt-get', 'dpkg', 'gcc')"
        " if shutil.which(t, path='/usr/bin:/usr/sbin:/bin:/opt/podkit/bin')))",
    ).stdout.strip()  # fmt: skip
    assert files == "", f"{name} holds {files}"


def test_an_image_moves_to_another_store_with_save_and_load(tmp_path: Path) -> None:
    name = image_name(COMPONENTS[0])
    archive = tmp_path / "image.tar"
    podman("save", "-q", "-o", str(archive), name, timeout=300)
    other = tmp_path / "store"
    env = dict(podman_env(), PODKIT_PODMAN_ROOT=str(other))
    script = f"source scripts/podman-env.sh && podman load -q -i {archive} && podman run --rm {name} --version"
    loaded = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    try:
        assert loaded.returncode == 0, loaded.stderr
        assert "0." in loaded.stdout
    finally:
        subprocess.run(
            ["bash", "-c", "source scripts/podman-env.sh && podman system reset -f"],
            cwd=ROOT, env=env, capture_output=True, timeout=120,
        )  # fmt: skip
