"""podman for the end-to-end tests: its environment, image names, and the older helpers.

The example pods are played as shipped through tests/e2e/shipped.py; ``local_manifest`` and
``running_pod`` below remain for tests that still rewrite a manifest themselves.

Each example is rewritten the way a user's overlay would rewrite it for a local run: podkit's
images keep the one name images/image.py gives them (what `make images` builds), every pull
policy becomes ``Never``, and chosen ports are published on 127.0.0.1. The pod is always torn
down.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def podman_env() -> dict[str, str]:
    """The environment scripts/podman-env.sh sets up (the same private podman root); read once."""
    out = subprocess.run(
        ["bash", "-c", "source scripts/podman-env.sh && env -0"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    pairs = (item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)
    return dict(pairs)


def podman(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args],
        env=podman_env(),
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


@functools.cache
def image_name(component: str) -> str:
    """The name `make images` gives ``component``'s image (images/image.py)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "images/image.py"), "name", component],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def build_standin(name: str) -> str:
    """The tag of tests/e2e/standins/<name> (a local stand-in for a third-party image), which
    `make e2e` builds before the tests (``images/build.sh --standins``); built here only when a
    test runs without it, outside any test's own time budget being the point of building first."""
    tag = f"localhost/podkit-e2e/{name}:dev"
    if podman("image", "exists", tag, check=False).returncode != 0:
        subprocess.run([str(ROOT / "images/build.sh"), "--standins"], cwd=ROOT, check=True)
    return tag


def local_manifest(
    example: str,
    ports: dict[str, int],
    edit: Callable[[dict[str, Any]], None] | None = None,
    edit_config: Callable[[dict[str, Any]], None] | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> Path:
    """``examples/<example>`` with this build's images, pull policy Never, and ``ports``
    (container port name -> host port on 127.0.0.1) published; ``edit`` may change the Pod
    further and ``edit_config`` the ConfigMaps; ``keep`` chooses the documents to play."""
    docs = [doc for doc in yaml.safe_load_all((ROOT / "examples" / example).read_text()) if doc]
    if keep is not None:
        docs = [doc for doc in docs if keep(doc)]
    for doc in docs:
        if doc["kind"] == "ConfigMap" and edit_config is not None:
            edit_config(doc)
        if doc["kind"] != "Pod":
            continue
        spec = doc["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            container["imagePullPolicy"] = "Never"
            image = container["image"]
            if "/podkit/" in image:
                component = image.rsplit("/", 1)[1].split(":")[0]
                container["image"] = image_name(component)
            for port in container.get("ports", []):
                if port.get("name") in ports:
                    port["hostPort"] = ports[port["name"]]
                    port["hostIP"] = "127.0.0.1"
        if edit is not None:
            edit(doc)
    handle, name = tempfile.mkstemp(suffix=".yaml", prefix="podkit-e2e-")
    with os.fdopen(handle, "w") as out:
        yaml.safe_dump_all(docs, out)
    return Path(name)


@contextmanager
def running_pod(manifest: Path) -> Iterator[None]:
    """``podman kube play`` the manifest; ``podman kube down`` it whatever happens."""
    try:
        played = podman("kube", "play", str(manifest), check=False)
        assert played.returncode == 0, played.stdout + played.stderr
        yield
    finally:
        podman("kube", "down", str(manifest), check=False)
        manifest.unlink(missing_ok=True)


def fetch(url: str) -> str:
    """The body at ``url``, or "" while nothing answers there."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except OSError:
        return ""


def wait_for_page(url: str, *wanted: str, timeout: float = 90) -> str:
    """Poll ``url`` until its body holds every ``wanted`` text (or time runs out); the body."""
    deadline = time.monotonic() + timeout
    body = fetch(url)
    while not all(text in body for text in wanted) and time.monotonic() < deadline:
        time.sleep(0.5)
        body = fetch(url)
    return body


def logs(container: str) -> str:
    result = podman("logs", container, check=False)
    return result.stdout + result.stderr
