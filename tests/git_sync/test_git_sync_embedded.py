"""The sidecar embedded in-process: first sync, updates, refs, stale worktrees, recovery."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp

from podkit.core import HostPort
from podkit.git_sync import GitSync
from tests.git_sync.git_sync_support import Upstream, git, link_hash, make_settings
from tests.support.ports import free_port
from tests.support.waits import async_wait_until


async def test_first_sync_publishes_a_relative_link_to_the_full_hash(
    upstream: Upstream, tmp_path: Path
) -> None:
    sha = git("rev-parse", "HEAD", cwd=upstream.work)
    root = tmp_path / "root"
    async with GitSync(make_settings(upstream, root)) as sync:
        link = root / "link"
        await async_wait_until(lambda: link_hash(link) == sha, what="first sync")
        target = os.readlink(link)
        assert not os.path.isabs(target)
        assert Path(target) == Path(".worktrees") / sha
        assert (link / "file").read_text() == "one\n"
        assert sync.synced
        assert sync.last_hash == sha
        # the worktree's .git points at the root's admin dir with a relative path
        dotgit = (root / ".worktrees" / sha / ".git").read_text()
        assert dotgit.startswith("gitdir: ../../.git/worktrees/")


async def test_new_commit_swaps_the_link_and_removes_the_old_worktree(
    upstream: Upstream, tmp_path: Path
) -> None:
    first = git("rev-parse", "HEAD", cwd=upstream.work)
    root = tmp_path / "root"
    link = root / "link"
    async with GitSync(make_settings(upstream, root, stale_worktree_timeout=0.5)):
        await async_wait_until(lambda: link_hash(link) == first, what="first sync")
        second = upstream.commit({"file": "two\n"}, "second")
        await async_wait_until(lambda: link_hash(link) == second, what="second sync")
        assert (link / "file").read_text() == "two\n"
        await async_wait_until(
            lambda: not (root / ".worktrees" / first).exists(), what="stale worktree removal"
        )
        assert (root / ".worktrees" / second).is_dir()
        # the cleanup prunes git's entry just after the directory goes
        await async_wait_until(
            lambda: first not in git("worktree", "list", "--porcelain", cwd=root),
            what="the stale worktree's entry to be pruned",
        )


async def test_http_root_is_503_until_the_first_sync(upstream: Upstream, tmp_path: Path) -> None:
    port = free_port()
    settings = make_settings(
        upstream,
        tmp_path / "root",
        admin_listen=HostPort("127.0.0.1", port),
        http_metrics=True,
        ref="does-not-exist-yet",
        max_failures=-1,
    )
    async with GitSync(settings) as sync, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{port}"
        async with http.get(base + "/") as response:
            assert response.status == 503
        async with http.get(base + "/readyz") as response:
            assert response.status == 503
        await async_wait_until(lambda: sync.failures >= 1, what="a failed sync")
        upstream.checkout("does-not-exist-yet", create=True)
        upstream.commit({"file": "branch\n"}, "on branch", branch="does-not-exist-yet")
        await async_wait_until(lambda: sync.synced, what="first sync")
        async with http.get(base + "/") as response:
            assert response.status == 200
        async with http.get(base + "/readyz") as response:
            assert response.status == 200
        async with http.get(base + "/metrics") as response:
            text = await response.text()
        assert 'git_sync_count_total{status="success"} 1\n' in text
        assert 'git_sync_count_total{status="error"}' in text
        assert "git_sync_duration_seconds_count" in text
        assert "git_fetch_count_total" in text
