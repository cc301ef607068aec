"""Fixtures for git-sync tests: real upstream repositories, a git daemon, and the sidecar itself.

``upstream`` is a bare repository (served over file://) with a scratch clone to commit and push
from. ``git_daemon`` serves a directory of bare repositories over git:// on a free loopback port,
started and stopped by PID. ``run_git_sync`` starts the sidecar as a child process
(``python -m podkit.git_sync``) and always stops it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.git_sync.git_sync_support import GitDaemon, Upstream, sidecar_argv
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child

if shutil.which("git") is None:  # pragma: no cover - git is part of the dev environment
    raise RuntimeError("git-sync tests need git: install it (apt-get install git)")


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    base = tmp_path / "upstream"
    base.mkdir()
    repo = Upstream(base)
    repo.commit({"file": "one\n"}, "first")
    return repo


@pytest.fixture
def git_daemon(tmp_path: Path, upstream: Upstream) -> Iterator[GitDaemon]:
    """``git daemon`` exporting the upstream's directory on a free loopback port."""
    port = free_port()
    base = upstream.bare.parent
    child = Child(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={base}",
            str(base),
        ]
    )
    try:
        wait_for_port(port)
        yield GitDaemon(child, port, base)
    finally:
        child.stop()


@pytest.fixture
def run_git_sync() -> Iterator[Callable[..., Child]]:
    children: list[Child] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Child:
        child = Child(sidecar_argv(*args), env=env)
        children.append(child)
        return child

    yield start
    for child in children:
        child.stop()
