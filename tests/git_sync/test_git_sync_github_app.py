"""GitHub App auth: an installation token minted with a signed JWT, used by git, refreshed.

A local aiohttp server plays GitHub's API: it verifies the RS256 JWT with the app's public key
(issuer, lifetime) and hands out installation tokens; ``git http-backend`` behind basic auth
accepts only the newest token, as the ``x-access-token`` user.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from podkit.git_sync import GitSync, GitSyncSettings
from podkit.git_sync.github_app import GitHubAppError, make_jwt
from tests.git_sync.git_sync_support import Upstream, link_hash, make_settings
from tests.git_sync.http_git_server import HttpGitServer
from tests.support.ports import free_port
from tests.support.waits import async_wait_until


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class FakeGitHub:
    """GitHub's ``POST /app/installations/{id}/access_tokens``."""

    public_key: rsa.RSAPublicKey
    git: HttpGitServer
    issuer: str
    lifetime: float = 3600.0
    status: int = 201
    minted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v3/"

    def verify(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return "no bearer token"
        head, payload, signature = auth[7:].split(".")
        try:
            self.public_key.verify(
                b64decode(signature),
                f"{head}.{payload}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return "bad signature"
        header, claims = json.loads(b64decode(head)), json.loads(b64decode(payload))
        now = time.time()
        if header.get("alg") != "RS256":
            return "not RS256"
        if claims.get("iss") != self.issuer:
            return f"wrong issuer {claims.get('iss')!r}"
        if not claims["iat"] <= now < claims["exp"] or claims["exp"] - claims["iat"] > 600:
            return "bad lifetime"
        if request.headers.get("Accept") != "application/vnd.github+json":
            return "bad Accept"
        return None

    async def handle(self, request: web.Request) -> web.Response:
        problem = self.verify(request)
        if problem is not None or self.status != 201:
            self.refused.append(problem or "refused")
            return web.json_response({"message": problem or "Bad credentials"}, status=401)
        if request.match_info["id"] != "42":
            return web.json_response({"message": "Not Found"}, status=404)
        token = f"ghs_{secrets.token_hex(16)}"
        self.minted.append(token)
        self.git.users = {"x-access-token": token}  # earlier tokens stop working
        expires = datetime.fromtimestamp(time.time() + self.lifetime, UTC)
        return web.json_response(
            {"token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}, status=201
        )


@pytest.fixture
def git_server(upstream: Upstream) -> Iterator[HttpGitServer]:
    server = HttpGitServer(upstream.bare.parent, {})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def github(
    app_key: rsa.RSAPrivateKey, git_server: HttpGitServer
) -> AsyncIterator[FakeGitHub]:
    fake = FakeGitHub(app_key.public_key(), git_server, issuer="1234", port=free_port())
    app = web.Application()
    app.router.add_post("/api/v3/app/installations/{id}/access_tokens", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", fake.port).start()
    try:
        yield fake
    finally:
        await runner.cleanup()


def app_settings(
    upstream: Upstream, git_server: HttpGitServer, github: FakeGitHub, root: Path, **changes: object
) -> GitSyncSettings:
    values: dict[str, object] = {
        "repo": git_server.url(upstream.bare.name),
        "github_base_url": github.base_url,
        "github_app_application_id": 1234,
        "github_app_installation_id": 42,
    }
    values.update(changes)
    return make_settings(upstream, root, **values)


async def test_installation_token_is_minted_once_and_used_by_git(
    upstream: Upstream,
    git_server: HttpGitServer,
    github: FakeGitHub,
    app_key: rsa.RSAPrivateKey,
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem(app_key))
    root = tmp_path / "root"
    settings = app_settings(
        upstream, git_server, github, root, github_app_private_key_file=str(key_file)
    )
    async with GitSync(settings) as sync:
        await async_wait_until(lambda: sync.synced, what="first sync")
        second = upstream.commit({"file": "two\n"}, "second")
        await async_wait_until(lambda: link_hash(root / "link") == second, what="second sync")
        assert len(github.minted) == 1  # an hour-long token is reused
        assert sync.metrics.github_app_token_refreshes.value("success") == 1
        assert sync.metrics.github_app_token_refreshes.value("error") == 0
    assert github.refused == []
    assert any(ok for _, _, ok in git_server.requests)


async def test_token_near_expiry_is_refreshed_and_client_id_is_the_issuer(
    upstream: Upstream,
    git_server: HttpGitServer,
    github: FakeGitHub,
    app_key: rsa.RSAPrivateKey,
    tmp_path: Path,
) -> None:
    github.lifetime = 120.0  # inside the refresh margin: every sync needs a new token
    github.issuer = "Iv1.abcdef"
    root = tmp_path / "root"
    settings = app_settings(
        upstream,
        git_server,
        github,
        root,
        github_app_application_id=0,
        github_app_client_id="Iv1.abcdef",
        github_app_private_key=pem(app_key),
    )
    async with GitSync(settings) as sync:
        await async_wait_until(lambda: sync.synced, what="first sync")
        second = upstream.commit({"file": "two\n"}, "second")
        await async_wait_until(
            lambda: link_hash(root / "link") == second, what="sync with a new token"
        )
        assert len(github.minted) >= 2
        assert sync.metrics.github_app_token_refreshes.value("success") == len(github.minted)


async def test_refused_token_fails_the_sync_and_is_counted(
    upstream: Upstream,
    git_server: HttpGitServer,
    github: FakeGitHub,
    tmp_path: Path,
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # not the app's key
    root = tmp_path / "root"
    settings = app_settings(
        upstream,
        git_server,
        github,
        root,
        github_app_private_key=pem(other),
        one_time=True,
        error_file="error.json",
    )
    async with GitSync(settings) as sync:
        assert await sync.wait() == 1
        assert sync.metrics.github_app_token_refreshes.value("error") == 1
    assert github.refused == ["bad signature"]
    error = json.loads((root / "error.json").read_text())
    assert "HTTP 401" in error["Err"]


def test_jwt_needs_an_rsa_pem_key() -> None:
    with pytest.raises(GitHubAppError, match="not a usable PEM key"):
        make_jwt("-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----\n", "1")
