"""``--http-pprof``: thread and task stacks, a sampled profile, the command line (redacted)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from podkit.core import HostPort
from podkit.git_sync import GitSync
from tests.git_sync.git_sync_support import Upstream, make_settings
from tests.support.ports import free_port
from tests.support.waits import async_wait_until


async def test_pprof_serves_stacks_and_a_profile(upstream: Upstream, tmp_path: Path) -> None:
    port = free_port()
    settings = make_settings(
        upstream, tmp_path / "root", admin_listen=HostPort("127.0.0.1", port), http_pprof=True
    )
    base = f"http://127.0.0.1:{port}/debug/pprof"
    async with GitSync(settings) as sync, aiohttp.ClientSession() as http:
        await async_wait_until(lambda: sync.synced, what="first sync")
        async with http.get(f"{base}/") as response:
            assert response.status == 200
            assert "/debug/pprof/profile" in await response.text()
        async with http.get(f"{base}/goroutine") as response:
            text = await response.text()
        assert "thread MainThread" in text
        assert "\ntask " in text and "in _loop" in text  # the sync loop's task, in its wait
        # a profile of 1s while the loop keeps answering other requests
        profile = asyncio.ensure_future(http.get(f"{base}/profile?seconds=1"))
        await asyncio.sleep(0.2)
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
        assert not profile.done()  # /healthz answered while the profile was being taken
        async with await profile as response:
            assert response.status == 200
            folded = await response.text()
        lines = folded.strip().splitlines()
        assert lines and all(line.rsplit(" ", 1)[1].isdigit() for line in lines)
        assert any(line.startswith("MainThread;") for line in lines)
        async with http.get(f"{base}/profile?seconds=nope") as response:
            assert response.status == 400
        async with http.get(f"{base}/cmdline") as response:
            assert response.status == 200


async def test_without_the_flag_nothing_is_served(upstream: Upstream, tmp_path: Path) -> None:
    port = free_port()
    settings = make_settings(upstream, tmp_path / "root", admin_listen=HostPort("127.0.0.1", port))
    url = f"http://127.0.0.1:{port}/debug/pprof/goroutine"
    async with (
        GitSync(settings),
        aiohttp.ClientSession() as http,
        http.get(url) as response,
    ):
        assert response.status == 404
