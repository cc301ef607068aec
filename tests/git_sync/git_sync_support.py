"""Helpers for git-sync tests: upstream repositories, settings, and polling for conditions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from podkit.git_sync import GitSync, GitSyncSettings
from tests.support.processes import Child

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(*args: str, cwd: Path | str, env: dict[str, str] | None = None) -> str:
    """Run git for the test (not for the sidecar); return stdout, fail loudly."""
    full = {**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": os.devnull, **(env or {})}
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


class Upstream:
    """A bare repository plus a working clone that commits and pushes to it."""

    def __init__(self, base: Path, name: str = "repo") -> None:
        self.bare = base / f"{name}.git"
        self.work = base / f"{name}-work"
        git("init", "-q", "--bare", "-b", "main", str(self.bare), cwd=base)
        git("init", "-q", "-b", "main", str(self.work), cwd=base)
        git("remote", "add", "origin", str(self.bare), cwd=self.work)

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def commit(self, files: dict[str, str], message: str = "change", branch: str = "main") -> str:
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "--allow-empty", "-m", message, cwd=self.work)
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def checkout(self, branch: str, create: bool = False) -> None:
        if create:
            git("checkout", "-q", "-b", branch, cwd=self.work)
        else:
            git("checkout", "-q", branch, cwd=self.work)

    def tag(self, name: str, annotated: bool = False, target: str = "HEAD") -> str:
        if annotated:
            git("tag", "-a", "-m", f"tag {name}", name, target, cwd=self.work)
        else:
            git("tag", name, target, cwd=self.work)
        git("push", "-q", "-f", "origin", f"refs/tags/{name}", cwd=self.work)
        return git("rev-parse", f"{name}^{{commit}}", cwd=self.work)


class GitDaemon:
    def __init__(self, child: Child, port: int, base: Path) -> None:
        self.child = child
        self.port = port
        self.base = base

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"


def sidecar_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "podkit.git_sync", "--log-format=json", *args]


def link_hash(link: Path) -> str | None:
    """The hash the link points at, if it exists and its target is a directory."""
    if not link.is_symlink() or not link.is_dir():
        return None
    return Path(os.readlink(link)).name


def make_settings(upstream: Upstream, root: Path, **changes: object) -> GitSyncSettings:
    values: dict[str, object] = {
        "repo": upstream.url,
        "root": str(root),
        "link": "link",
        "period": 0.1,
        "admin_listen": None,
        "shutdown_grace": 5.0,
    }
    values.update(changes)
    return GitSyncSettings(**values)


def add_submodule(upstream: Upstream, sub: Upstream, path: str, url: str) -> str:
    """Add ``sub`` to ``upstream`` at ``path`` with ``url`` in .gitmodules; push; the new hash."""
    git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.url,
        path,
        cwd=upstream.work,
    )
    git("config", "-f", ".gitmodules", f"submodule.{path}.url", url, cwd=upstream.work)
    return upstream.commit({}, f"add submodule {path}")


def script(path: Path, body: str) -> str:
    """Write an executable ``/bin/sh`` script at ``path``; return its path as text."""
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


async def one_time(upstream: Upstream, root: Path, **changes: object) -> int:
    """Run the sidecar in-process with ``--one-time`` (and ``changes``); its exit code."""
    async with GitSync(make_settings(upstream, root, one_time=True, **changes)) as sync:
        return await sync.wait()


def run_sidecar(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the sidecar to its end (``--one-time`` runs) and return its result."""
    return subprocess.run(
        sidecar_argv(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (absent, or a zombie nobody reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"
