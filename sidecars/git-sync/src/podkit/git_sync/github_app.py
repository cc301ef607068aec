"""GitHub App auth: mint an installation access token and keep it fresh.

With ``--github-app-application-id`` (or ``--github-app-client-id``), ``--github-app-installation-id``
and the app's private key (``$GITSYNC_GITHUB_APP_PRIVATE_KEY`` or ``--github-app-private-key-file``,
re-read at every refresh so a rotated key is picked up), :meth:`GitHubApp.token` signs a short JWT
(RS256, issuer = the client ID or application ID, issued 60 s in the past against clock skew,
valid 9 minutes) and POSTs it to ``{--github-base-url}/app/installations/{id}/access_tokens``.
GitHub answers with a token valid for an hour; it is reused until it is within
:data:`REFRESH_MARGIN` of ``expires_at``, then minted again. The token is the password git gets
(through the credential store, never argv), with the username ``x-access-token``.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from podkit.core import Logger
from podkit.git_sync.settings import GitSyncSettings

USERNAME = "x-access-token"
REFRESH_MARGIN = 300.0
"""Seconds before ``expires_at`` at which a token is replaced."""
JWT_LIFETIME = 540
JWT_BACKDATE = 60


class GitHubAppError(Exception):
    """No installation token could be had (a bad key, GitHub refused, the API is unreachable)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(private_key_pem: str, issuer: str, now: float | None = None) -> str:
    """A GitHub App JWT: RS256 over ``{"iat", "exp", "iss"}``."""
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise GitHubAppError(f"the GitHub app private key is not a usable PEM key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise GitHubAppError("the GitHub app private key must be an RSA key")
    issued = int(now if now is not None else time.time()) - JWT_BACKDATE
    header = {"alg": "RS256", "typ": "JWT"}
    payload = {"iat": issued, "exp": issued + JWT_BACKDATE + JWT_LIFETIME, "iss": issuer}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


def _parse_expiry(text: Any) -> float:
    if not isinstance(text, str) or not text:
        raise GitHubAppError("GitHub's answer has no expires_at")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise GitHubAppError(f"GitHub's expires_at {text!r} is not a timestamp") from None


def _message(body: str) -> str:
    """GitHub's error ``message``, as `` (message)``, or nothing."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return f" ({' '.join(str(message).split())[:200]})" if message else ""


class GitHubApp:
    """Mints and caches the installation token of one GitHub App installation."""

    def __init__(self, settings: GitSyncSettings, log: Logger) -> None:
        self.settings = settings
        self.log = log
        self.issuer = settings.github_app_client_id or str(settings.github_app_application_id)
        base = settings.github_base_url.rstrip("/")
        self.url = f"{base}/app/installations/{settings.github_app_installation_id}/access_tokens"
        self._token = ""
        self._expires = 0.0

    def needs_refresh(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return not self._token or now >= self._expires - REFRESH_MARGIN

    def _private_key(self) -> str:
        if self.settings.github_app_private_key:
            return self.settings.github_app_private_key
        path = self.settings.github_app_private_key_file
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise GitHubAppError(
                f"can't read the GitHub app private key file {path}: {exc.strerror or exc}"
            ) from None
        self.log.redactor.add(text.strip())
        return text

    async def token(self) -> tuple[str, bool]:
        """The current token, minting a new one when needed; (token, whether it was refreshed)."""
        if not self.needs_refresh():
            return self._token, False
        jwt = make_jwt(self._private_key(), self.issuer)
        headers = {
            "Authorization": f"Bearer {jwt}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        try:
            async with (
                aiohttp.ClientSession() as client,
                client.post(
                    self.url, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
                ) as response,
            ):
                text = await response.text()
                if response.status != 201:
                    raise GitHubAppError(
                        f"GitHub answered HTTP {response.status} when asked for an installation "
                        f"token{_message(text)}"
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GitHubAppError(
                f"can't reach GitHub at {self.url}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise GitHubAppError("GitHub's answer is not JSON") from None
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise GitHubAppError("GitHub's answer has no token")
        self.log.redactor.add(token)
        self._token = token
        self._expires = _parse_expiry(data.get("expires_at"))
        self.log.info(
            "minted a GitHub app installation token",
            expires_at=data.get("expires_at"),
            installation=self.settings.github_app_installation_id,
        )
        return token, True
