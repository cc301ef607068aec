"""What a script can observe of git-sync, compared with kubernetes/git-sync v4's behaviour.

Metric text as Go prints it, fetch counts, askpass credentials stored for the repository's URL,
revisions never read as file names, and ``--root`` errors that name the path and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
from aiohttp import web

from podkit.core import HostPort
from podkit.git_sync import GitSync
from tests.git_sync.git_sync_support import (
    Upstream,
    git,
    link_hash,
    make_settings,
    run_sidecar,
    script,
)
from tests.support.ports import free_port
from tests.support.waits import async_wait_until


async def _metrics(port: int) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return await response.text()


def _value(text: str, series: str) -> str | None:
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return value
    return None


async def test_metrics_print_integers_and_the_series_git_sync_prints(
    upstream: Upstream, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(
        upstream, tmp_path / "root", admin_listen=HostPort("127.0.0.1", port), http_metrics=True
    )
    async with GitSync(settings) as sync:
        await async_wait_until(lambda: sync.sync_count >= 3, what="three syncs")
        text = await _metrics(port)
    assert _value(text, 'git_sync_count_total{status="success"}') == "1"
    assert _value(text, "git_fetch_count_total") == "1"
    noops = _value(text, 'git_sync_count_total{status="noop"}')
    assert noops is not None and noops.isdigit() and int(noops) >= 2
    assert "# TYPE git_sync_count_total counter" in text
    assert "# TYPE git_fetch_count_total counter" in text
    assert "# TYPE git_sync_duration_seconds summary" in text
    assert _value(text, 'git_sync_duration_seconds_count{status="success"}') == "1"
    assert "_created" not in text
    assert " 1.0\n" not in text
    # a summary's _sum comes before its _count, as Go writes it
    lines = text.splitlines()
    assert lines.index(
        next(x for x in lines if x.startswith('git_sync_duration_seconds_sum{status="success"}'))
    ) < lines.index('git_sync_duration_seconds_count{status="success"} 1')


async def test_an_annotated_tag_costs_one_fetch(upstream: Upstream, tmp_path: Path) -> None:
    sha = upstream.tag("v1", annotated=True)
    root = tmp_path / "root"
    port = free_port()
    settings = make_settings(
        upstream, root, ref="v1", admin_listen=HostPort("127.0.0.1", port), http_metrics=True
    )
    async with GitSync(settings) as sync:
        await async_wait_until(lambda: link_hash(root / "link") == sha, what="the tag's commit")
        await async_wait_until(lambda: sync.sync_count >= 4, what="polls after the first sync")
        text = await _metrics(port)
        assert _value(text, "git_fetch_count_total") == "1"
        assert _value(text, 'git_sync_count_total{status="success"}') == "1"
        moved = upstream.commit({"file": "two\n"}, "second")
        git("tag", "-f", "-a", "-m", "moved", "v1", moved, cwd=upstream.work)
        git("push", "-q", "-f", "origin", "refs/tags/v1", cwd=upstream.work)
        await async_wait_until(lambda: link_hash(root / "link") == moved, what="the moved tag")
        await async_wait_until(lambda: sync.sync_count >= 8, what="polls after the move")
        text = await _metrics(port)
    assert _value(text, "git_fetch_count_total") == "2"


async def test_a_file_named_like_the_commit_does_not_make_it_ambiguous(
    upstream: Upstream, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    async with GitSync(make_settings(upstream, root)) as sync:
        first = git("rev-parse", "HEAD", cwd=upstream.work)
        await async_wait_until(lambda: link_hash(root / "link") == first, what="first sync")
        (upstream.work / "file").write_text("two\n")
        git("commit", "-q", "-am", "second", cwd=upstream.work)
        second = git("rev-parse", "HEAD", cwd=upstream.work)
        (root / second).write_text("a file named like the next commit\n")
        (root / ".worktrees" / first / second).write_text("and in the worktree\n")
        git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=upstream.work)
        await async_wait_until(lambda: link_hash(root / "link") == second, what="second sync")
        assert sync.failures == 0
    result = run_sidecar(
        f"--repo={upstream.url}", f"--root={root}", "--link=link", f"--ref={second}", "--one-time"
    )
    assert result.returncode == 0, result.stderr
    assert link_hash(root / "link") == second


def test_root_that_is_a_file_names_the_path_and_the_problem(
    upstream: Upstream, tmp_path: Path
) -> None:
    root = tmp_path / "not-a-dir"
    root.write_text("")
    result = run_sidecar(f"--repo={upstream.url}", f"--root={root}", "--one-time")
    assert result.returncode == 1
    assert f"{root}: it exists and is not a directory" in result.stderr
    below = root / "sub"
    result = run_sidecar(f"--repo={upstream.url}", f"--root={below}", "--one-time")
    assert result.returncode == 1
    assert str(below) in result.stderr and "not a directory" in result.stderr


async def test_askpass_credentials_are_stored_for_the_repository_url(
    upstream: Upstream, tmp_path: Path
) -> None:
    """As git-sync's e2e test does: a git wrapper asks ``git credential fill`` for the repo URL
    (a file:// URL keeps its path) and refuses to run unless the askpass answer comes back."""
    calls: list[str] = []

    async def askpass(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.Response(text="username=my-username\npassword=my-password\n")

    app = web.Application()
    app.router.add_get("/creds", askpass)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    wrapper = script(
        tmp_path / "askpass-git",
        'case "$1" in\n'
        "  fetch|ls-remote|clone)\n"
        f'    out=$(printf "url=%s\\n\\n" "{upstream.url}" | git credential fill) || exit 1\n'
        '    case "$out" in *"username=my-username"*"password=my-password"*) ;;\n'
        '      *) echo "invalid test username/password pair: $out" >&2; exit 1;; esac;;\n'
        "esac\n"
        'exec git "$@"\n',
    )
    root = tmp_path / "root"
    try:
        settings = make_settings(
            upstream,
            root,
            git=wrapper,
            askpass_url=f"http://127.0.0.1:{port}/creds",
            one_time=True,
        )
        async with GitSync(settings) as sync:
            assert await sync.wait() == 0
            assert sync.metrics.askpass_calls.value("success") == 1
    finally:
        await runner.cleanup()
    assert calls == ["/creds"]
    assert link_hash(root / "link") == git("rev-parse", "HEAD", cwd=upstream.work)
    leftovers = [name for name in os.listdir(tmp_path) if name.startswith("podkit-git-sync.")]
    assert leftovers == []


def test_a_root_owned_by_another_user_is_safe_for_git(upstream: Upstream, tmp_path: Path) -> None:
    """git-sync marks every directory safe (a volume is often owned by another uid): git would
    otherwise refuse the root with "detected dubious ownership"."""
    root = tmp_path / "root"
    assert run_sidecar(f"--repo={upstream.url}", f"--root={root}", "--one-time").returncode == 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.lchown(os.path.join(dirpath, name), 65534, 65534)
    os.chown(root, 65534, 65534)
    second = upstream.commit({"file": "two\n"}, "second")
    result = run_sidecar(f"--repo={upstream.url}", f"--root={root}", "--one-time")
    assert result.returncode == 0, result.stderr
    assert link_hash(root / "repo.git") == second


def test_an_upgrade_in_place_from_the_v3_layout(upstream: Upstream, tmp_path: Path) -> None:
    """As git-sync's e2e upgrade test: a v3 tree at <root>/<hash> is replaced and removed."""
    root = tmp_path / "root"
    args = (f"--repo={upstream.url}", f"--root={root}", "--link=link", "--one-time")
    assert run_sidecar(*args).returncode == 0
    sha = link_hash(root / "link")
    assert sha is not None
    (root / ".worktrees" / sha).rename(root / sha)  # what v3 left: <root>/<hash>
    git("worktree", "repair", str(root / sha), cwd=root)
    (root / "link").unlink()
    (root / "link").symlink_to(sha)
    second = upstream.commit({"file2": "two\n"}, "second")
    result = run_sidecar(*args)
    assert result.returncode == 0, result.stderr
    assert link_hash(root / "link") == second
    assert (root / "link" / "file2").read_text() == "two\n"
    assert not (root / sha).exists()
