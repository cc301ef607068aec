"""Faults: a slow cleanup or fetch never stalls /healthz or SIGTERM, a full disk is recovered from,
git children die with the sidecar, killed runs leave nothing behind, secrets stay out of children.

Slow steps are real processes made slow by wrappers (an ``rm`` first on PATH, a ``--git``
wrapper) that wait while a flag file exists; the full disk is a real tmpfs (the tests run as
root, as in CI and the dev container).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from podkit.core import HostPort
from podkit.git_sync import GitSync
from tests.git_sync.git_sync_support import (
    Upstream,
    git,
    gone,
    link_hash,
    make_settings,
    run_sidecar,
    script,
)
from tests.support.ports import free_port
from tests.support.processes import Child
from tests.support.waits import async_wait_until, wait_until

Start = Callable[..., Child]
PASSWORD = "env-Secret-Passw0rd-99"


def _slow_rm(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A directory holding an ``rm`` that waits while ``flag`` exists (its PIDs in ``pids``)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    flag = tmp_path / "slow-rm"
    pids = tmp_path / "rm-pids"
    script(
        bindir / "rm",
        f'echo $$ >> {pids}\nwhile [ -e {flag} ]; do sleep 0.05; done\nexec /bin/rm "$@"\n',
    )
    return bindir, flag, pids


def _hanging_git(tmp_path: Path, command: str) -> tuple[str, Path, Path]:
    """A --git wrapper whose ``command`` waits while ``flag`` exists, its PID in ``pids``."""
    flag = tmp_path / f"slow-{command}"
    pids = tmp_path / f"{command}-pids"
    wrapper = script(
        tmp_path / f"slow-{command}-git",
        f'if [ -e {flag} ] && [ "$1" = {command} ]; then\n'
        f"  echo $$ >> {pids}\n"
        f"  while [ -e {flag} ]; do sleep 0.05; done\n"
        "fi\n"
        'exec git "$@"\n',
    )
    return wrapper, flag, pids


def _pids(path: Path) -> list[int]:
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


async def test_healthz_answers_at_once_during_a_long_worktree_removal(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir, flag, pids = _slow_rm(tmp_path)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    root = tmp_path / "root"
    port = free_port()
    first = git("rev-parse", "HEAD", cwd=upstream.work)
    settings = make_settings(upstream, root, admin_listen=HostPort("127.0.0.1", port))
    async with GitSync(settings), aiohttp.ClientSession() as http:
        await async_wait_until(lambda: link_hash(root / "link") == first, what="first sync")
        flag.touch()
        second = upstream.commit({"file": "two\n"}, "second")
        await async_wait_until(lambda: link_hash(root / "link") == second, what="second sync")
        await async_wait_until(lambda: _pids(pids), what="the stale worktree's removal to start")
        # the removal waits for the flag, that is forever: a loop it blocked could not answer
        # at all, so each probe's (generous) timeout would fire
        probe_timeout = aiohttp.ClientTimeout(total=10)
        for _ in range(20):
            url = f"http://127.0.0.1:{port}/healthz"
            async with http.get(url, timeout=probe_timeout) as response:
                assert response.status == 200
            await asyncio.sleep(0.02)
        assert all(not gone(pid) for pid in _pids(pids)), "the removal ended during the probes"
        assert (root / ".worktrees" / first).exists()
        flag.unlink()
        await async_wait_until(
            lambda: not (root / ".worktrees" / first).exists(), what="the removal"
        )


def test_sigterm_during_a_long_cleanup_exits_within_the_grace_period(
    upstream: Upstream, tmp_path: Path, run_git_sync: Start
) -> None:
    bindir, flag, pids = _slow_rm(tmp_path)
    root = tmp_path / "root"
    child = run_git_sync(
        f"--repo={upstream.url}",
        f"--root={root}",
        "--link=link",
        "--period=100ms",
        "--shutdown-grace=2s",
        env={"PATH": f"{bindir}:{os.environ['PATH']}"},
    )
    first = git("rev-parse", "HEAD", cwd=upstream.work)
    wait_until(lambda: link_hash(root / "link") == first, what="first sync")
    flag.touch()
    second = upstream.commit({"file": "two\n"}, "second")
    wait_until(lambda: _pids(pids), what="the stale worktree's removal to start")
    child.signal(signal.SIGTERM)
    assert child.wait(timeout=10) == 0  # the grace is 2s; the removal would take forever
    assert link_hash(root / "link") == second
    for pid in _pids(pids):  # the removal was killed with its process group
        wait_until(lambda pid=pid: gone(pid), what=f"rm {pid} to end")


def test_sigterm_during_a_slow_fetch_exits_within_the_grace_period(
    upstream: Upstream, tmp_path: Path, run_git_sync: Start
) -> None:
    wrapper, flag, pids = _hanging_git(tmp_path, "fetch")
    flag.touch()
    root = tmp_path / "root"
    child = run_git_sync(
        f"--repo={upstream.url}",
        f"--root={root}",
        f"--git={wrapper}",
        "--shutdown-grace=1s",
    )
    wait_until(lambda: _pids(pids), what="the fetch to start")
    child.signal(signal.SIGTERM)
    assert child.wait(timeout=10) == 0
    for pid in _pids(pids):
        wait_until(lambda pid=pid: gone(pid), what=f"git {pid} to end")


def test_git_children_die_with_a_killed_sidecar(
    upstream: Upstream, tmp_path: Path, run_git_sync: Start
) -> None:
    wrapper, flag, pids = _hanging_git(tmp_path, "fetch")
    flag.touch()
    child = run_git_sync(
        f"--repo={upstream.url}", f"--root={tmp_path / 'root'}", f"--git={wrapper}"
    )
    wait_until(lambda: _pids(pids), what="the fetch to start")
    (hanging,) = _pids(pids)
    assert not gone(hanging)
    child.signal(signal.SIGKILL)
    child.wait()
    wait_until(lambda: gone(hanging), timeout=10, what="git to die with the sidecar")


def test_no_secret_from_the_environment_reaches_git_or_hooks(
    upstream: Upstream, tmp_path: Path, run_git_sync: Start
) -> None:
    wrapper, flag, pids = _hanging_git(tmp_path, "fetch")
    flag.touch()
    hook_env = tmp_path / "hook-env"
    hook = script(tmp_path / "hook", f"cat /proc/$$/environ > {hook_env}\n")
    child = run_git_sync(
        f"--repo={upstream.url}",
        f"--root={tmp_path / 'root'}",
        f"--git={wrapper}",
        "--username=alice",
        f"--exechook-command={hook}",
        env={"GITSYNC_PASSWORD": PASSWORD, "GITSYNC_PUSH_WEBHOOK_SECRET": ""},
    )
    wait_until(lambda: _pids(pids), what="the fetch to start")
    (pid,) = _pids(pids)
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert b"GIT_CONFIG_GLOBAL=" in environ  # it is git's environment indeed
    assert PASSWORD.encode() not in environ
    assert b"GITSYNC_PASSWORD" not in environ
    flag.unlink()
    wait_until(hook_env.exists, what="the exec hook")
    wait_until(lambda: b"GITSYNC_HASH=" in hook_env.read_bytes(), what="the hook's environment")
    assert PASSWORD.encode() not in hook_env.read_bytes()
    child.signal(signal.SIGTERM)
    assert child.wait() == 0


def test_what_killed_runs_left_is_removed_at_start_up(upstream: Upstream, tmp_path: Path) -> None:
    root = tmp_path / "root"
    assert run_sidecar(f"--repo={upstream.url}", f"--root={root}", "--one-time").returncode == 0
    # a killed run's private directory (with its credentials), and one of a live process
    dead = subprocess.Popen(["true"])
    dead.wait()
    tmpdir = tmp_path / "tmp"
    killed = tmpdir / f"podkit-git-sync.{dead.pid}.abc123"
    live = tmpdir / f"podkit-git-sync.{os.getpid()}.def456"
    for directory in (killed, live):
        directory.mkdir(parents=True)
        (directory / "credentials").write_text("https://u:p@example.com\n")
    # a worktree entry whose directory is gone (the run was killed before it cleaned up)
    git("worktree", "add", "-q", "--detach", str(tmp_path / "orphan"), "HEAD", cwd=root)
    (tmp_path / "orphan" / ".git").unlink()
    for entry in (tmp_path / "orphan").iterdir():
        entry.unlink()
    (tmp_path / "orphan").rmdir()
    assert "orphan" in git("worktree", "list", cwd=root)

    result = run_sidecar(
        f"--repo={upstream.url}", f"--root={root}", "--one-time", env={"TMPDIR": str(tmpdir)}
    )
    assert result.returncode == 0, result.stderr
    assert not killed.exists()
    assert live.exists()
    assert sorted(p.name for p in tmpdir.iterdir()) == [live.name]  # its own one is gone too
    assert "orphan" not in git("worktree", "list", cwd=root)


def _force_push(upstream: Upstream, message: str) -> str:
    git("add", "-A", cwd=upstream.work)
    git("commit", "-q", "-m", message, cwd=upstream.work)
    git("push", "-q", "-f", "origin", "HEAD:refs/heads/main", cwd=upstream.work)
    return git("rev-parse", "HEAD", cwd=upstream.work)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a real full disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"the full-disk test needs root to mount a tmpfs: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_full_disk_is_recovered_from_once_the_upstream_shrinks(
    upstream: Upstream, small_disk: Path
) -> None:
    git("checkout", "-q", "--orphan", "big", cwd=upstream.work)
    (upstream.work / "blob").write_bytes(os.urandom(6 * 1024 * 1024))
    big = _force_push(upstream, "too big for the disk")
    root = small_disk / "root"
    settings = make_settings(upstream, root, max_failures=-1, period=0.2)
    async with GitSync(settings) as sync:
        await async_wait_until(lambda: sync.failures >= 2, what="fetches failing on the full disk")
        assert link_hash(root / "link") is None
        objects = root / ".git" / "objects"
        await async_wait_until(
            lambda: (
                not [p for p in objects.rglob("*") if p.name.startswith(("tmp_obj_", "tmp_pack_"))]
            ),
            what="the failed fetch's temporaries to be removed",
        )
        # the upstream shrinks again: a small history replaces the big one
        git("checkout", "-q", "--orphan", "small", cwd=upstream.work)
        git("rm", "-q", "-r", "--cached", ".", cwd=upstream.work)
        (upstream.work / "blob").unlink()
        (upstream.work / "file").write_text("small\n")
        small = _force_push(upstream, "small again")
        assert small != big
        await async_wait_until(
            lambda: link_hash(root / "link") == small, what="a sync on the freed disk"
        )
        assert (root / "link" / "file").read_text() == "small\n"
