"""Hooks: the exec hook, the pre-publish hook and the webhook, against real processes and HTTP."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from podkit.git_sync import GitSync
from tests.git_sync.git_sync_support import Upstream, git, link_hash, make_settings, script
from tests.support.ports import free_port
from tests.support.waits import async_wait_until


async def test_exechook_runs_in_the_new_worktree_with_the_hash(
    upstream: Upstream, tmp_path: Path
) -> None:
    out = tmp_path / "hook.log"
    hook = script(tmp_path / "hook.sh", f'echo "$PWD $GITSYNC_HASH" >> {out}\n')
    root = tmp_path / "root"
    settings = make_settings(upstream, root, exechook_command=hook)
    async with GitSync(settings):
        first = git("rev-parse", "HEAD", cwd=upstream.work)
        await async_wait_until(
            lambda: out.exists() and first in out.read_text(), what="first hook run"
        )
        second = upstream.commit({"file": "two\n"}, "second")
        await async_wait_until(lambda: second in out.read_text(), what="second hook run")
    lines = out.read_text().splitlines()
    assert lines == [
        f"{root / '.worktrees' / first} {first}",
        f"{root / '.worktrees' / second} {second}",
    ]


async def test_failing_exechook_is_retried_until_it_succeeds(
    upstream: Upstream, tmp_path: Path
) -> None:
    count = tmp_path / "count"
    hook = script(
        tmp_path / "hook.sh",
        f'echo x >> {count}\n[ "$(wc -l < {count})" -ge 2 ] || exit 3\n',
    )
    settings = make_settings(
        upstream, tmp_path / "root", exechook_command=hook, exechook_backoff=1.0
    )
    async with GitSync(settings) as sync:
        await async_wait_until(
            lambda: sync.metrics.hook_runs.value("exechook", "success") == 1,
            what="hook success",
        )
        assert sync.metrics.hook_runs.value("exechook", "error") == 1
    assert len(count.read_text().splitlines()) == 2


async def test_one_time_exits_1_when_the_exechook_fails(upstream: Upstream, tmp_path: Path) -> None:
    hook = script(tmp_path / "hook.sh", "echo broken >&2\nexit 1\n")
    settings = make_settings(upstream, tmp_path / "root", one_time=True, exechook_command=hook)
    async with GitSync(settings) as sync:
        assert await sync.wait() == 1
    assert link_hash(tmp_path / "root" / "link")  # the sync itself did publish


async def test_pre_publish_hook_gates_the_link(upstream: Upstream, tmp_path: Path) -> None:
    out = tmp_path / "pre.log"
    good = script(tmp_path / "ok.sh", f'echo "$PWD $GITSYNC_HASH" > {out}\n')
    root = tmp_path / "root"
    settings = make_settings(upstream, root, one_time=True, pre_publish_exechook_command=good)
    async with GitSync(settings) as sync:
        assert await sync.wait() == 0
    sha = link_hash(root / "link")
    assert out.read_text().split() == [str(root / ".worktrees" / str(sha)), str(sha)]

    bad = script(tmp_path / "bad.sh", "exit 1\n")
    upstream.commit({"file": "two\n"}, "second")
    settings = make_settings(
        upstream,
        root,
        one_time=True,
        pre_publish_exechook_command=bad,
        pre_publish_exechook_backoff=1.0,
        sync_timeout=2.5,
    )
    async with GitSync(settings) as sync:
        assert await sync.wait() == 1
    assert link_hash(root / "link") == sha  # still the old, complete tree


async def test_webhook_sends_the_hash_and_retries_until_the_success_status(
    upstream: Upstream, tmp_path: Path
) -> None:
    calls: list[tuple[str, str | None]] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append((request.method, request.headers.get("Gitsync-Hash")))
        return web.Response(status=500 if len(calls) == 1 else 204)

    app = web.Application()
    app.router.add_route("*", "/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        settings = make_settings(
            upstream,
            tmp_path / "root",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            webhook_method="PUT",
            webhook_success_status=204,
            webhook_backoff=1.0,
        )
        sha = git("rev-parse", "HEAD", cwd=upstream.work)
        async with GitSync(settings) as sync:
            await async_wait_until(lambda: len(calls) >= 2, what="webhook retry")
            await async_wait_until(lambda: sync.metrics.hook_runs.value("webhook", "success") == 1)
        assert calls[:2] == [("PUT", sha), ("PUT", sha)]
    finally:
        await runner.cleanup()


async def test_webhook_failure_in_one_time_mode_exits_1(upstream: Upstream, tmp_path: Path) -> None:
    port = free_port()  # nothing listens: connection refused
    settings = make_settings(
        upstream, tmp_path / "root", one_time=True, webhook_url=f"http://127.0.0.1:{port}/"
    )
    async with GitSync(settings) as sync:
        assert await sync.wait() == 1
