"""examples/log-streamer.yaml in podman: the app's rotated files come out of the sidecar's stdout,
every line once and in order per file, across a restart of the sidecar container."""

from __future__ import annotations

import time

from tests.e2e.pods import logs, podman
from tests.e2e.shipped import Shipped, play, shipped

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
    def bounded_app(play: Shipped) -> None:
        app = play.pod("log-streamer-example")["spec"]["containers"][-1]
        app["env"] = [
            {"name": "LINES", "value": str(LINES)},
            {"name": "ROTATE_EVERY", "value": "200"},  # 7 rotations per file, 3 kept
        ]

    example = shipped("log-streamer.yaml")
    example.change(
        f"log-streamer-example/app: LINES={LINES}, ROTATE_EVERY=200",
        "the test needs a bounded app whose every line it can count",
        bounded_app,
    )
    with play(example) as prober:
        prober.wait_ready()
        first = wait_for_lines(300)
        assert min(len(v) for v in first.values()) >= 300, logs(SIDECAR)
        # SIGTERM, flush, checkpoint in the state emptyDir; then the same container again
        podman("restart", SIDECAR)
        seen = wait_for_lines(LINES)
        out = logs(SIDECAR)
        # the image has no shell and no `id`: podman reads the user from the host side
        user = podman("top", SIDECAR, "user").stdout.split()
        prober.check()
    for name, got in seen.items():
        assert got == list(range(LINES)), f"{name}: {len(got)} lines\n{out[-3000:]}"
    assert user[1:] == ["nonroot"], user  # 65532 in the image's /etc/passwd
