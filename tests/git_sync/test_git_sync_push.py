"""Sync on push: the inbound webhook on the admin server, with GitHub and GitLab verification.

Requests come from an aiohttp client; the sidecar polls once an hour, so only the webhook can
make it publish a new commit during a test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import aiohttp
import pytest

from podkit.core import HostPort, SettingsError
from podkit.git_sync import GitSync, GitSyncSettings
from tests.git_sync.git_sync_support import Upstream, link_hash, make_settings, run_sidecar
from tests.support.ports import free_port
from tests.support.waits import async_wait_until

SECRET = "push-Secret-9f8e7d"
PAYLOAD = json.dumps({"ref": "refs/heads/main", "after": "0" * 40}).encode()


def github_signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def metric(sync: GitSync, result: str) -> float:
    assert sync.push_webhook is not None
    value: float = sync.push_webhook.requests.labels(result)._value.get()
    return value


def push_settings(upstream: Upstream, root: Path, port: int, **changes: object) -> GitSyncSettings:
    values: dict[str, object] = {
        "period": 3600.0,
        "admin_listen": HostPort("127.0.0.1", port),
        "push_webhook_path": "/push",
        "push_webhook_secret": SECRET,
    }
    values.update(changes)
    return make_settings(upstream, root, **values)


async def test_github_signed_push_syncs_at_once_and_bad_signatures_are_refused(
    upstream: Upstream, tmp_path: Path
) -> None:
    port = free_port()
    root = tmp_path / "root"
    url = f"http://127.0.0.1:{port}/push"
    async with (
        GitSync(push_settings(upstream, root, port)) as sync,
        aiohttp.ClientSession() as http,
    ):
        await async_wait_until(lambda: sync.synced, what="first sync")
        second = upstream.commit({"file": "two\n"}, "second")

        async with http.post(url, data=PAYLOAD) as response:
            assert response.status == 401  # no signature at all
        headers = {
            "X-Hub-Signature-256": github_signature(PAYLOAD, "wrong"),
            "X-GitHub-Event": "push",
        }
        async with http.post(url, data=PAYLOAD, headers=headers) as response:
            assert response.status == 403
        headers["X-Hub-Signature-256"] = github_signature(PAYLOAD + b" ")  # body tampered with
        async with http.post(url, data=PAYLOAD, headers=headers) as response:
            assert response.status == 403
        async with http.get(url) as response:
            assert response.status == 405
        assert link_hash(root / "link") != second  # nothing above triggered a sync

        headers = {"X-Hub-Signature-256": github_signature(b"{}"), "X-GitHub-Event": "ping"}
        async with http.post(url, data=b"{}", headers=headers) as response:
            assert response.status == 200
            assert (await response.json())["result"] == "ping"

        headers = {"X-Hub-Signature-256": github_signature(PAYLOAD), "X-GitHub-Event": "push"}
        async with http.post(url, data=PAYLOAD, headers=headers) as response:
            assert response.status == 202
            assert (await response.json())["result"] == "accepted"
        await async_wait_until(lambda: link_hash(root / "link") == second, what="sync on push")

        async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 404  # --http-metrics is off; counted all the same
        assert metric(sync, "accepted") == 1
        assert metric(sync, "forbidden") == 2
        assert metric(sync, "unauthorized") == 1
        assert metric(sync, "ping") == 1


async def test_gitlab_token_from_a_secret_file_that_is_re_read(
    upstream: Upstream, tmp_path: Path
) -> None:
    secret_file = tmp_path / "push-secret"
    secret_file.write_text("first-Token-1\n")
    port = free_port()
    root = tmp_path / "root"
    url = f"http://127.0.0.1:{port}/hooks/gitlab"
    settings = push_settings(
        upstream,
        root,
        port,
        push_webhook_path="/hooks/gitlab",
        push_webhook_secret="",
        push_webhook_secret_file=str(secret_file),
        http_metrics=True,
    )
    async with GitSync(settings) as sync, aiohttp.ClientSession() as http:
        await async_wait_until(lambda: sync.synced, what="first sync")
        second = upstream.commit({"file": "two\n"}, "second")
        gitlab = {"X-Gitlab-Event": "Push Hook"}
        async with http.post(url, data=PAYLOAD, headers={**gitlab, "X-Gitlab-Token": "nope"}) as r:
            assert r.status == 403
        async with http.post(
            url, data=PAYLOAD, headers={**gitlab, "X-Gitlab-Token": "first-Token-1"}
        ) as response:
            assert response.status == 202
        await async_wait_until(
            lambda: link_hash(root / "link") == second, what="sync on a GitLab push"
        )

        secret_file.write_text("rotated-Token-2")  # rotation: the old token stops working
        third = upstream.commit({"file": "three\n"}, "third")
        async with http.post(
            url, data=PAYLOAD, headers={**gitlab, "X-Gitlab-Token": "first-Token-1"}
        ) as response:
            assert response.status == 403
        async with http.post(
            url, data=PAYLOAD, headers={**gitlab, "X-Gitlab-Token": "rotated-Token-2"}
        ) as response:
            assert response.status == 202
        await async_wait_until(
            lambda: link_hash(root / "link") == third, what="sync after rotation"
        )

        async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
            text = await response.text()
        assert 'git_sync_push_webhook_requests_total{result="accepted"} 2\n' in text
        assert 'git_sync_push_webhook_requests_total{result="forbidden"} 2\n' in text
        assert "rotated-Token-2" not in text


def test_push_webhook_settings_are_checked(tmp_path: Path) -> None:
    base = {"repo": "file:///x", "root": str(tmp_path)}
    with pytest.raises(SettingsError, match="--http-bind"):
        GitSyncSettings(**base, push_webhook_path="/push", push_webhook_secret="s")
    bind = {"admin_listen": HostPort("127.0.0.1", 0)}
    with pytest.raises(SettingsError, match="exactly one of"):
        GitSyncSettings(**base, **bind, push_webhook_path="/push")
    with pytest.raises(SettingsError, match="/readyz"):
        GitSyncSettings(**base, **bind, push_webhook_path="/readyz", push_webhook_secret="s")
    with pytest.raises(SettingsError, match="need --push-webhook-path"):
        GitSyncSettings(**base, push_webhook_secret_file="/x")


def test_push_webhook_command_line_and_env_only_secret(tmp_path: Path) -> None:
    result = run_sidecar(
        "--repo=file:///x",
        f"--root={tmp_path}",
        "--http-bind=127.0.0.1:0",
        "--push-webhook-path=/push",
        "--push-webhook-secret=visible",
    )
    assert result.returncode == 2  # the secret has no flag: it would show in the process list
    assert "--push-webhook-secret" in result.stderr
    result = run_sidecar(
        "--repo=file:///x",
        f"--root={tmp_path}",
        "--push-webhook-path=/push",
        env={"GITSYNC_PUSH_WEBHOOK_SECRET": SECRET},
    )
    assert result.returncode == 1  # a broken cross-flag rule: git-sync exits 1
    assert "--http-bind must be specified" in result.stderr
    assert SECRET not in result.stderr


def test_push_webhook_in_the_manual_and_help() -> None:
    man = run_sidecar("--man")
    assert man.returncode == 0
    assert "SYNC ON PUSH" in man.stdout
    assert "$GITSYNC_PUSH_WEBHOOK_SECRET (env only)" in man.stdout
    helped = run_sidecar("--help")
    assert "--push-webhook-path" in helped.stdout


async def test_triggers_coalesce_and_each_later_push_syncs(
    upstream: Upstream, tmp_path: Path
) -> None:
    """Triggers that arrive together make one sync; a later one makes another."""
    port = free_port()
    root = tmp_path / "root"
    async with GitSync(push_settings(upstream, root, port)) as sync:
        await async_wait_until(lambda: sync.synced, what="first sync")
        count = sync.sync_count
        sync.trigger()
        sync.trigger()  # two triggers before the loop wakes: one sync
        await async_wait_until(lambda: sync.sync_count > count, what="triggered sync")
        second = upstream.commit({"file": "two\n"}, "second")
        sync.trigger()
        await async_wait_until(
            lambda: link_hash(root / "link") == second, what="second triggered sync"
        )
        await async_wait_until(
            lambda: sync.sync_count >= count + 2, what="the second sync to be counted"
        )
        assert sync.sync_count == count + 2  # the two early triggers made one sync, not two
