"""Sync on push: the inbound webhook GitHub or GitLab calls when someone pushes.

:class:`PushWebhook` is an aiohttp handler served at ``--push-webhook-path`` on the admin server.
A request is verified against the secret (``$GITSYNC_PUSH_WEBHOOK_SECRET``, or
``--push-webhook-secret-file`` re-read for every request so it can be rotated):

* GitHub: ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body with the secret;
* GitLab: ``X-Gitlab-Token: <secret>``.

Both are compared in constant time. No signature header at all answers 401, a wrong one 403, a
method other than POST 405, a body over :data:`MAX_BODY` 413. A verified request calls
``trigger`` (the service syncs at once, or right after the sync in flight) and answers 202;
GitHub's ``ping`` event answers 200 without syncing. Every answer is counted in
``git_sync_push_webhook_requests_total{result}``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter

from podkit.core import Logger

MAX_BODY = 25 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB."""


class PushWebhook:
    """Verifies push webhooks and triggers a sync."""

    def __init__(
        self,
        trigger: Callable[[], None],
        registry: CollectorRegistry,
        log: Logger,
        *,
        secret: str = "",
        secret_file: str = "",
    ) -> None:
        if bool(secret) == bool(secret_file):
            raise ValueError("exactly one of secret and secret_file")
        self.trigger = trigger
        self.log = log
        self.secret = secret
        self.secret_file = secret_file
        self.requests = Counter(
            "git_sync_push_webhook_requests",
            "Inbound push webhook requests, by result (accepted, ping, unauthorized, forbidden, "
            "invalid, error)",
            ["result"],
            registry=registry,
        )

    def _secret(self) -> bytes:
        if self.secret:
            return self.secret.encode()
        text = Path(self.secret_file).read_text(encoding="utf-8").rstrip("\r\n")
        self.log.redactor.add(text)
        return text.encode()

    def _answer(self, result: str, status: int, text: str) -> web.Response:
        self.requests.labels(result).inc()
        return web.json_response({"result": result, "message": text}, status=status)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            self.requests.labels("invalid").inc()
            return web.Response(status=405, headers={"Allow": "POST"}, text="POST only\n")
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return self._answer("invalid", 413, "payload too large")
        signature = request.headers.get("X-Hub-Signature-256")
        token = request.headers.get("X-Gitlab-Token")
        if signature is None and token is None:
            self.log.warning("push webhook without a signature", remote=request.remote)
            return self._answer(
                "unauthorized", 401, "missing X-Hub-Signature-256 or X-Gitlab-Token"
            )
        try:
            secret = self._secret()
        except OSError as exc:
            self.log.error("can't read the push webhook secret file", error=str(exc))
            return self._answer("error", 500, "the webhook secret is not readable")
        if signature is not None:
            expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(signature.strip().encode(), expected.encode())
            source = "github"
        else:
            assert token is not None
            ok = hmac.compare_digest(token.encode(), secret)
            source = "gitlab"
        if not ok:
            self.log.warning(
                "push webhook with a bad signature", source=source, remote=request.remote
            )
            return self._answer("forbidden", 403, "signature does not match")
        if request.headers.get("X-GitHub-Event") == "ping":
            return self._answer("ping", 200, "pong")
        event = request.headers.get("X-GitHub-Event") or request.headers.get("X-Gitlab-Event")
        self.log.info("push webhook: syncing now", source=source, event=event or "")
        self.trigger()
        return self._answer("accepted", 202, "sync triggered")
