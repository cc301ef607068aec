"""Sync options: depth, filter, submodules with --git-config, sparse checkout, odd roots, signals."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from tests.git_sync.git_sync_support import Upstream, git, link_hash, one_time
from tests.support.processes import Child
from tests.support.waits import wait_until

Start = Callable[..., Child]


async def test_depth_1_is_shallow_and_depth_0_is_full_history(
    upstream: Upstream, tmp_path: Path
) -> None:
    for n in range(3):
        upstream.commit({"file": f"{n}\n"}, f"commit {n}")
    root = tmp_path / "root"
    assert await one_time(upstream, root) == 0
    assert git("rev-parse", "--is-shallow-repository", cwd=root) == "true"
    assert git("rev-list", "--count", "HEAD", cwd=root) == "1"
    assert await one_time(upstream, root, depth=0) == 0
    assert git("rev-parse", "--is-shallow-repository", cwd=root) == "false"
    assert git("rev-list", "--count", "HEAD", cwd=root) == "4"


async def test_filter_makes_a_partial_clone(upstream: Upstream, tmp_path: Path) -> None:
    git("config", "uploadpack.allowFilter", "true", cwd=upstream.bare)
    root = tmp_path / "root"
    assert await one_time(upstream, root, filter="blob:none", depth=0) == 0
    assert (root / "link" / "file").read_text() == "one\n"
    assert "blob:none" in git("config", "--get-regexp", "partialclonefilter", cwd=root)
    assert list((root / ".git" / "objects" / "pack").glob("*.promisor"))


async def test_submodules_follow_git_config(upstream: Upstream, tmp_path: Path) -> None:
    (tmp_path / "sub-base").mkdir()
    sub = Upstream(tmp_path / "sub-base", "sub")
    sub.commit({"inner.txt": "inside\n"}, "sub")
    git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.url,
        "vendor/sub",
        cwd=upstream.work,
    )
    upstream.commit({}, "add submodule")
    root = tmp_path / "root"
    # git 2.38+ refuses file:// submodules unless configured: --git-config is how users do it
    assert await one_time(upstream, root, submodules="off") == 0
    assert not (root / "link" / "vendor" / "sub" / "inner.txt").exists()
    assert await one_time(upstream, root / "b", submodules="recursive") == 1  # refused
    assert (
        await one_time(
            upstream,
            root / "c",
            submodules="recursive",
            git_config='protocol.file.allow:always,"user.name":"git sync"',
        )
        == 0
    )
    assert (root / "c" / "link" / "vendor" / "sub" / "inner.txt").read_text() == "inside\n"


async def test_sparse_checkout_file(upstream: Upstream, tmp_path: Path) -> None:
    upstream.commit({"docs/a.md": "a\n", "src/b.py": "b\n"}, "tree")
    patterns = tmp_path / "sparse"
    patterns.write_text("/docs/\n")
    root = tmp_path / "root"
    assert await one_time(upstream, root, sparse_checkout_file=str(patterns)) == 0
    assert (root / "link" / "docs" / "a.md").read_text() == "a\n"
    assert not (root / "link" / "src").exists()


async def test_root_through_a_symlink_and_inside_another_repo(
    upstream: Upstream, tmp_path: Path
) -> None:
    outer = tmp_path / "outer"
    git("init", "-q", str(outer), cwd=tmp_path)
    real = outer / "deep" / "root"
    real.mkdir(parents=True)
    alias = tmp_path / "alias"
    alias.symlink_to(real)
    assert await one_time(upstream, alias) == 0
    assert (real / "link" / "file").read_text() == "one\n"
    assert git("rev-parse", "--show-toplevel", cwd=real) == str(real)


async def test_a_root_that_is_not_a_repository_is_reinitialised(
    upstream: Upstream, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "garbage").write_text("x")
    (root / "leftover").write_text("x")
    assert await one_time(upstream, root) == 0
    assert not (root / "leftover").exists()
    assert (root / "link" / "file").read_text() == "one\n"


def test_sync_on_signal(upstream: Upstream, tmp_path: Path, run_git_sync: Start) -> None:
    root = tmp_path / "root"
    child = run_git_sync(
        f"--repo={upstream.url}",
        f"--root={root}",
        "--link=link",
        "--period=1h",
        "--sync-on-signal=USR1",
    )
    first = git("rev-parse", "HEAD", cwd=upstream.work)
    wait_until(lambda: link_hash(root / "link") == first, what="first sync")
    second = upstream.commit({"file": "two\n"}, "second")
    child.signal(signal.SIGUSR1)
    wait_until(lambda: link_hash(root / "link") == second, what="sync on SIGUSR1")
    third = upstream.commit({"file": "three\n"}, "third")
    child.signal(signal.SIGHUP)  # podkit: SIGHUP syncs too
    wait_until(lambda: link_hash(root / "link") == third, what="sync on SIGHUP")
    child.signal(signal.SIGTERM)
    assert child.wait() == 0
