"""examples/log-streamer.yaml in podman: the app's rotated files come out of the sidecar's stdout,
every line once and in order per file, across a restart of the sidecar container."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.pods import local_manifest, logs, podman, running_pod

LINES = 1500
SIDECAR = "log-streamer-example-log-streamer"


def numbers(out: str) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {"a": [], "b": []}
    for line in out.splitlines():
        name, number, _ = line.split(" ", 2)
        seen[name].append(int(number))
    return seen


def wait_for_lines(count: int, timeout: float = 180) -> dict[str, list[int]]:
    deadline = time.monotonic() + timeout
    while True:
        seen = numbers(podman("logs", SIDECAR, check=False).stdout)
        if min(len(v) for v in seen.values()) >= count or time.monotonic() > deadline:
            return seen
        time.sleep(1)


def test_rotated_files_stream_out_once_across_a_sidecar_restart() -> None:
    def bounded_app(pod: dict[str, Any]) -> None:
        spec = pod["spec"]
        # podman 4.3 runs init containers to completion and knows no native sidecars
        # (restartPolicy: Always), so the sidecar runs as an ordinary container here.
        sidecar = spec.pop("initContainers")[0]
        sidecar.pop("restartPolicy")
        sidecar.pop("ports")
        for probe in ("livenessProbe", "readinessProbe"):
            sidecar.pop(probe)
        sidecar["args"] = [arg for arg in sidecar["args"] if not arg.startswith("--admin-listen")]
        sidecar["args"].append("--admin-listen=")
        spec["containers"].insert(0, sidecar)
        app = spec["containers"][1]
        app["env"] = [
            {"name": "LINES", "value": str(LINES)},
            {"name": "ROTATE_EVERY", "value": "200"},  # 7 rotations per file, 3 kept
        ]

    manifest = local_manifest("log-streamer.yaml", {}, edit=bounded_app)
    with running_pod(manifest):
        first = wait_for_lines(300)
        assert min(len(v) for v in first.values()) >= 300, logs(SIDECAR)
        # SIGTERM, flush, checkpoint in the state emptyDir; then the same container again
        podman("restart", SIDECAR)
        seen = wait_for_lines(LINES)
        out = logs(SIDECAR)
        user = podman("exec", SIDECAR, "id", "-u", check=False).stdout.strip()
    for name, got in seen.items():
        assert got == list(range(LINES)), f"{name}: {len(got)} lines\n{out[-3000:]}"
    assert user == "65532"
