"""examples/git-sync.yaml as shipped: nginx serves what git-sync publishes and follows new commits;
the probes of both containers pass. The example's repository (on GitHub) cannot be reached
here: the test adds a git server pod and points --repo at it, and says so."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.pods import fetch, wait_for_page
from tests.e2e.shipped import Shipped, play, shipped


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_nginx_serves_the_repository_and_follows_new_commits(tmp_path: Path) -> None:
    served = tmp_path / "srv"
    bare, work = served / "site.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "index.html").write_text("<h1>version 1</h1>\n")
    git(work, "add", "index.html")
    git(work, "commit", "-q", "-m", "v1")
    git(work, "push", "-q", str(bare), "main")
    served.chmod(0o755)

    def add_git_server(play: Shipped) -> None:
        play.docs.append({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "git-server"},
            "spec": {
                "containers": [{
                    "name": "git", "image": "localhost/podkit-e2e/git:dev",
                    "volumeMounts": [{"name": "srv", "mountPath": "/srv/git", "readOnly": True}],
                }],
                "volumes": [{"name": "srv", "hostPath": {"path": str(served), "type": "Directory"}}],
            },
        })  # fmt: skip

    def point_at_git_server(play: Shipped) -> None:
        sidecar = next(
            c for c in play.pod("git-sync-example")["spec"]["containers"] if c["name"] == "git-sync"
        )
        sidecar["args"] = [
            "--repo=git://git-server/site.git" if arg.startswith("--repo=") else arg
            for arg in sidecar["args"]
        ]

    example = shipped("git-sync.yaml")
    example.change(
        "a pod git-server (git daemon, tests/e2e/standins/git) serving a test repository",
        "the example's repository is on GitHub, which cannot be reached here",
        add_git_server,
    )
    example.change(
        "git-sync-example/git-sync: --repo=git://git-server/site.git",
        "the same reason: the test's repository stands in for the example's",
        point_at_git_server,
    )
    web = example.host_port("git-sync-example", "http")
    admin = example.host_port("git-sync-example", "git-sync")
    with play(example) as prober:
        prober.wait_ready(timeout=100)
        body = wait_for_page(f"http://127.0.0.1:{web}/", "version 1")
        assert "version 1" in body
        (work / "index.html").write_text("<h1>version 2</h1>\n")
        git(work, "commit", "-q", "-am", "v2")
        git(work, "push", "-q", str(bare), "main")
        body = wait_for_page(f"http://127.0.0.1:{web}/", "version 2", timeout=60)  # --period=30s
        assert "version 2" in body
        metrics = fetch(f"http://127.0.0.1:{admin}/metrics")
        assert 'git_sync_count_total{status="success"}' in metrics
        prober.check()
