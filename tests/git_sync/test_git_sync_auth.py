"""HTTP auth against git http-backend: username and password, password files, --credential.

The password is never in the sidecar's logs (even at the highest verbosity), its error file or
the argv of any process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from podkit.core import HostPort
from podkit.git_sync import GitSync
from tests.git_sync.git_sync_support import (
    Upstream,
    git,
    link_hash,
    make_settings,
    run_sidecar,
)
from tests.git_sync.http_git_server import HttpGitServer
from tests.support.ports import free_port
from tests.support.waits import async_wait_until

PASSWORD = "s3cret-Passw0rd-xyz"


@pytest.fixture
def server(upstream: Upstream) -> Iterator[HttpGitServer]:
    http = HttpGitServer(upstream.bare.parent, {"alice": PASSWORD})
    http.start()
    try:
        yield http
    finally:
        http.stop()


def test_username_and_password_env(
    upstream: Upstream, server: HttpGitServer, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    result = run_sidecar(
        f"--repo={server.url(upstream.bare.name)}",
        f"--root={root}",
        "--link=link",
        "--username=alice",
        "--one-time",
        "-v",
        "9",
        env={"GITSYNC_PASSWORD": PASSWORD},
    )
    assert result.returncode == 0, result.stderr
    assert link_hash(root / "link") == git("rev-parse", "HEAD", cwd=upstream.work)
    assert any(authorised for _, _, authorised in server.requests)
    assert PASSWORD not in result.stderr + result.stdout


def test_wrong_password_fails_without_leaking_it(
    upstream: Upstream, server: HttpGitServer, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    wrong = "not-the-Password-42"
    result = run_sidecar(
        f"--repo={server.url(upstream.bare.name)}",
        f"--root={root}",
        "--username=alice",
        "--one-time",
        "--error-file=error.json",
        "--verbose=9",
        env={"GITSYNC_PASSWORD": wrong},
    )
    assert result.returncode == 1
    error = (root / "error.json").read_text()
    assert json.loads(error)["Args"]["stderr"]
    for text in (result.stderr, result.stdout, error):
        assert wrong not in text
    assert "Authentication failed" in error or "401" in error or "terminal prompts" in error


def test_password_in_the_repo_url_is_moved_out_of_argv(
    upstream: Upstream, server: HttpGitServer, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    url = server.url(upstream.bare.name).replace("http://", f"http://alice:{PASSWORD}@")
    result = run_sidecar(f"--repo={url}", f"--root={root}", "--one-time", "-v", "9", env={})
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stderr
    assert PASSWORD not in git("remote", "get-url", "origin", cwd=root)


async def test_password_file_is_re_read_before_every_sync(
    upstream: Upstream, server: HttpGitServer, tmp_path: Path
) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    root = tmp_path / "root"
    settings = make_settings(
        upstream,
        root,
        repo=server.url(upstream.bare.name),
        username="alice",
        password_file=str(secret),
        max_failures=-1,
    )
    async with GitSync(settings) as sync:
        await async_wait_until(lambda: sync.synced, what="first sync")
        rotated = "rotated-Passw0rd-77"
        server.users["alice"] = rotated
        await async_wait_until(lambda: sync.failures >= 1, what="a failure with the old password")
        secret.write_text(rotated)
        second = upstream.commit({"file": "two\n"}, "second")
        await async_wait_until(
            lambda: link_hash(root / "link") == second, what="sync with the new password"
        )


async def test_credential_json_for_the_repo_url(
    upstream: Upstream, server: HttpGitServer, tmp_path: Path
) -> None:
    from podkit.git_sync.settings import CREDENTIALS

    url = server.url(upstream.bare.name)
    creds = CREDENTIALS(json.dumps([{"url": url, "username": "alice", "password": PASSWORD}]))
    settings = make_settings(
        upstream, tmp_path / "root", repo=url, credential=[creds], one_time=True
    )
    async with GitSync(settings) as sync:
        assert await sync.wait() == 0


async def test_askpass_url_supplies_credentials_and_is_counted(
    upstream: Upstream, server: HttpGitServer, tmp_path: Path
) -> None:
    async def askpass(request: web.Request) -> web.Response:
        return web.Response(text=f"username=alice\npassword={PASSWORD}\n")

    app = web.Application()
    app.router.add_get("/creds", askpass)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    admin = free_port()
    try:
        settings = make_settings(
            upstream,
            tmp_path / "root",
            repo=server.url(upstream.bare.name),
            askpass_url=f"http://127.0.0.1:{port}/creds",
            admin_listen=HostPort("127.0.0.1", admin),
            http_metrics=True,
        )
        async with GitSync(settings) as sync, aiohttp.ClientSession() as http:
            await async_wait_until(lambda: sync.synced, what="first sync")
            async with http.get(f"http://127.0.0.1:{admin}/metrics") as response:
                text = await response.text()
        lines = text.splitlines()
        assert any(line.startswith('git_sync_askpass_calls{status="success"}') for line in lines)
        assert "# TYPE git_sync_askpass_calls " in text
        assert PASSWORD not in text
    finally:
        await runner.cleanup()
