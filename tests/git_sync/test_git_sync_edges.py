"""The paths that hang or are rarely taken: a hook that hangs, a webhook that never answers, a
slow git cut off by --sync-timeout, --git-config-add, --group-write, --add-user, and submodules
over git:// (git daemon).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from podkit.core import SettingsError
from podkit.git_sync import GitSync, GitSyncSettings
from tests.git_sync.git_sync_support import (
    GitDaemon,
    Upstream,
    add_submodule,
    git,
    gone,
    link_hash,
    make_settings,
    run_sidecar,
    script,
    sidecar_argv,
)
from tests.support.waits import async_wait_until, wait_until


async def test_hanging_exechook_is_killed_at_its_timeout_and_retried(
    upstream: Upstream, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    hook = script(tmp_path / "hook.sh", f"echo $$ >> {pids}\nexec sleep 60\n")
    settings = make_settings(
        upstream,
        tmp_path / "root",
        exechook_command=hook,
        exechook_timeout=1.0,
        exechook_backoff=1.0,
    )
    async with GitSync(settings) as sync:
        runs = sync.metrics.hook_runs
        await async_wait_until(
            lambda: runs.value("exechook", "error") >= 1, what="the hook to time out"
        )
        first = int(pids.read_text().split()[0])
        await async_wait_until(lambda: gone(first), what="the hung hook to be killed")
        await async_wait_until(lambda: len(pids.read_text().split()) >= 2, what="a retry")
        assert sync.metrics.hook_runs.value("exechook", "success") == 0
        assert link_hash(tmp_path / "root" / "link")  # the sync itself is not held up


async def test_webhook_that_never_answers_times_out_and_is_retried(
    upstream: Upstream, tmp_path: Path
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # read nothing, answer nothing, keep the connection open

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        settings = make_settings(
            upstream,
            tmp_path / "root",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            webhook_timeout=1.0,
            webhook_backoff=1.0,
        )
        async with GitSync(settings) as sync:
            runs = sync.metrics.hook_runs
            await async_wait_until(
                lambda: runs.value("webhook", "error") >= 2, what="two timed-out webhooks"
            )
            assert len(accepted) >= 2
        # fire and forget (--webhook-success-status=0): a silent server is a success
        fire = make_settings(
            upstream,
            tmp_path / "root2",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            webhook_timeout=1.0,
            webhook_success_status=0,
            one_time=True,
        )
        async with GitSync(fire) as sync:
            assert await sync.wait() == 0
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


def test_slow_git_is_cut_off_by_sync_timeout(upstream: Upstream, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    wrapper = script(
        tmp_path / "slow-git",
        f'if [ "$1" = fetch ]; then echo $$ >> {pids}; exec sleep 60; fi\nexec git "$@"\n',
    )
    root = tmp_path / "root"
    result = run_sidecar(
        f"--repo={upstream.url}",
        f"--root={root}",
        f"--git={wrapper}",
        "--sync-timeout=1s",
        "--one-time",
        "--error-file=error.json",
    )
    assert result.returncode == 1, result.stderr
    error = json.loads((root / "error.json").read_text())
    assert "--sync-timeout=1s" in error["Err"]
    assert "--sync-timeout=1s" in result.stderr
    pid = int(pids.read_text().split()[0])
    wait_until(lambda: gone(pid), what="the slow git to be killed")
    assert not (root / "repo.git").exists()  # nothing was published


async def test_git_config_add_keeps_every_value_of_a_multi_valued_key(
    upstream: Upstream, tmp_path: Path
) -> None:
    base = f"file://{upstream.bare.parent}/"
    settings = make_settings(
        upstream,
        tmp_path / "root",
        repo="https://first.invalid/repo.git",
        git_config_add=[
            f'"url.{base}.insteadOf":https://first.invalid/',
            f'"url.{base}.insteadOf":https://second.invalid/',
        ],
        one_time=True,
    )
    async with GitSync(settings) as sync:
        assert await sync.wait() == 0  # the first value still works after the second was added
        assert sync._auth is not None
        values = git(
            "config",
            "--file",
            str(sync._auth.config_file),
            "--get-all",
            f"url.{base}.insteadof",
            cwd=tmp_path,
        )
    assert values.split() == ["https://first.invalid/", "https://second.invalid/"]
    assert (tmp_path / "root" / "link" / "file").read_text() == "one\n"


def test_bad_git_config_values_exit_1_as_in_git_sync(tmp_path: Path) -> None:
    for flag in (
        "--git-config-add=nocolon",
        "--git-config-add=nosection:x",
        '--git-config-add="url.a:b.insteadOf"x',
        '--git-config="a.b',
    ):
        result = run_sidecar("--repo=file:///x", f"--root={tmp_path}", flag)
        assert result.returncode == 1, (flag, result.stderr)
        assert "--git-config" in result.stderr
    with pytest.raises(SettingsError, match="--git-config-add"):
        GitSyncSettings(repo="file:///x", root=str(tmp_path), git_config_add=[":x"])


def test_group_write_makes_the_repo_and_worktrees_group_writable(
    upstream: Upstream, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    old = os.umask(0o022)
    try:
        result = run_sidecar(
            f"--repo={upstream.url}", f"--root={root}", "--link=link", "--one-time", "--group-write"
        )
        plain = run_sidecar(f"--repo={upstream.url}", f"--root={tmp_path / 'plain'}", "--one-time")
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert plain.returncode == 0, plain.stderr
    worktree = (root / "link").resolve()
    for path in (worktree / "file", worktree, root / ".git" / "config", root / ".git" / "objects"):
        assert path.stat().st_mode & stat.S_IWGRP, f"{path} is not group-writable"
    plain_file = (tmp_path / "plain" / "repo.git" / "file").resolve()
    assert not plain_file.stat().st_mode & stat.S_IWGRP


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory outside root's private tmp, usable by another UID."""
    path = Path(tempfile.mkdtemp(prefix="podkit-git-sync-add-user."))
    path.chmod(0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_add_user_adds_the_uid_to_passwd(shared_dir: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("setpriv") is None:
        raise AssertionError(
            "--add-user is tested as root with unshare and setpriv: install util-linux"
        )
    uid = 4242
    passwd = shared_dir / "passwd"
    shutil.copy("/etc/passwd", passwd)
    passwd.chmod(0o666)  # as git-sync's image does, so an arbitrary UID may add itself
    assert f":{uid}:" not in passwd.read_text()
    up = shared_dir / "up"
    up.mkdir()
    upstream = Upstream(up)
    upstream.commit({"file": "shared\n"}, "first")
    for path in (shared_dir, *shared_dir.rglob("*")):
        path.chmod(path.stat().st_mode | 0o777 if path.is_dir() else path.stat().st_mode | 0o666)
    root = shared_dir / "root"
    inner = " ".join(
        [
            f"mount --bind {passwd} /etc/passwd &&",
            f"exec setpriv --reuid={uid} --regid={uid} --clear-groups --",
            *(
                f"'{arg}'"
                for arg in sidecar_argv(
                    f"--repo={upstream.url}",
                    f"--root={root}",
                    "--one-time",
                    "--add-user",
                    "--git-config=safe.directory:*",
                )
            ),
        ]
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(shared_dir), "TMPDIR": str(shared_dir)},
    )
    assert result.returncode == 0, result.stderr
    added = [line for line in passwd.read_text().splitlines() if f":{uid}:{uid}:" in line]
    assert added == [f"git-sync:x:{uid}:{uid}::{shared_dir}:/sbin/nologin"]
    assert (root / "repo.git" / "file").read_text() == "shared\n"
    assert (root / ".git").stat().st_uid == uid


async def test_submodules_over_git_daemon(
    upstream: Upstream, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    sub = Upstream(upstream.bare.parent, "sub")
    sub.commit({"inner.txt": "over git://\n"}, "sub")
    nested = Upstream(upstream.bare.parent, "nested")
    nested.commit({"deep.txt": "deeper\n"}, "nested")
    add_submodule(sub, nested, "deep", git_daemon.url(nested.bare.name))
    sha = add_submodule(upstream, sub, "vendor/sub", git_daemon.url(sub.bare.name))
    repo = git_daemon.url(upstream.bare.name)
    for mode, deep in (("recursive", True), ("shallow", False)):
        root = tmp_path / mode
        settings = make_settings(upstream, root, repo=repo, submodules=mode, one_time=True)
        async with GitSync(settings) as sync:
            assert await sync.wait() == 0
        link = root / "link"
        assert link_hash(link) == sha
        assert (link / "vendor" / "sub" / "inner.txt").read_text() == "over git://\n"
        assert (link / "vendor" / "sub" / "deep" / "deep.txt").exists() == deep
