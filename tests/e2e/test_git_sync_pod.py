"""examples/git-sync.yaml in podman: nginx serves a host repository and follows new commits."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pods import build_standin, fetch, local_manifest, logs, running_pod, wait_for_page
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.fixture
def served_repo(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A repository with an index.html, served read-only by git daemon on 127.0.0.1."""
    bare = tmp_path / "site.git"
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "index.html").write_text("<h1>version 1</h1>\n")
    git(work, "add", "index.html")
    git(work, "commit", "-q", "-m", "v1")
    git(work, "push", "-q", str(bare), "main")
    port = free_port()
    with Child(
        ["git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", f"--port={port}",
         f"--base-path={tmp_path}", str(tmp_path)],
    ):  # fmt: skip
        wait_for_port(port)
        yield work, port


def test_nginx_serves_the_repository_and_follows_new_commits(served_repo: tuple[Path, int]) -> None:
    work, git_port = served_repo
    web, admin = free_port(), free_port()
    nginx = build_standin("nginx")

    def on_host_loopback(pod: dict[str, Any]) -> None:
        # The pod shares the host's network so it reaches git daemon and the test on 127.0.0.1
        # only; the ports move to free ones there.
        spec = pod["spec"]
        spec["hostNetwork"] = True
        # podman 4.3 runs init containers to completion and knows no native sidecars
        # (restartPolicy: Always), so the sidecar runs as an ordinary container here.
        sidecar = spec.pop("initContainers")[0]
        sidecar.pop("restartPolicy")
        spec["containers"].insert(0, sidecar)
        sidecar["args"] = [
            f"--repo=git://127.0.0.1:{git_port}/site.git", "--ref=main", "--root=/git",
            "--link=html", "--period=1s", f"--http-bind=127.0.0.1:{admin}", "--http-metrics",
        ]  # fmt: skip
        for container in spec["containers"]:
            container.pop("ports", None)
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                container.pop(probe, None)
        spec["containers"][1]["image"] = nginx

    def nginx_port(doc: dict[str, Any]) -> None:
        doc["data"]["default.conf"] = doc["data"]["default.conf"].replace(
            "listen 8080;", f"listen 127.0.0.1:{web};"
        )

    manifest = local_manifest("git-sync.yaml", {}, edit=on_host_loopback, edit_config=nginx_port)
    with running_pod(manifest):
        body = wait_for_page(f"http://127.0.0.1:{web}/", "version 1")
        assert "version 1" in body, logs("git-sync-example-git-sync") + logs(
            "git-sync-example-nginx"
        )
        (work / "index.html").write_text("<h1>version 2</h1>\n")
        git(work, "commit", "-q", "-am", "v2")
        git(work, "push", "-q", str(work.parent / "site.git"), "main")
        body = wait_for_page(f"http://127.0.0.1:{web}/", "version 2")
        assert "version 2" in body, logs("git-sync-example-git-sync")
        metrics = fetch(f"http://127.0.0.1:{admin}/metrics")
        assert 'git_sync_count_total{status="success"}' in metrics
