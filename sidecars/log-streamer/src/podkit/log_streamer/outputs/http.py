"""What the HTTP log-store outputs share: one aiohttp session, auth read from files, gzip, and
the meaning of status codes.

Credentials are read from their files at every request (in a worker thread), so a rotated
token or password is picked up without a restart, and each value read is registered with the
service's redactor. ``429`` and ``5xx`` (and connection errors, timeouts) raise
:class:`~podkit.log_streamer.outputs.base.OutputError` — the channel retries with backoff,
honouring ``Retry-After`` — while any other ``4xx`` means the store will never take the batch:
it is dropped, counted as ``rejected`` and logged with the store's reason.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from podkit.core import one_line
from podkit.log_streamer import __version__
from podkit.log_streamer.outputs.base import Output, OutputContext, OutputError
from podkit.log_streamer.outputs.spec import OutputSpec

__all__ = ["HttpOutput", "Reply", "RetryableHttpError"]


class RetryableHttpError(OutputError):
    """A 429 or 5xx: try again later (``retry_after`` seconds when the store said so)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Reply:
    status: int
    body: bytes


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


class HttpOutput(Output):
    """Base of the Loki and bulk outputs: :meth:`post` with auth, gzip and status handling."""

    content_type = "application/json"

    def __init__(self, spec: OutputSpec, context: OutputContext) -> None:
        super().__init__(spec, context)
        self.linger = context.settings.batch_wait
        self.session: aiohttp.ClientSession | None = None
        self._error: str | None = None

    async def open(self, state: str | None) -> None:
        s = self.context.settings
        ssl = self.context.client_tls() if self.spec.target.startswith("https:") else None
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=s.http_timeout or None),
            connector=aiohttp.TCPConnector(ssl=ssl if ssl is not None else False, limit=4),
            headers={"User-Agent": f"podkit-log-streamer/{__version__}"},
        )

    def _auth(self) -> str | None:
        """The Authorization header, read from the configured file (blocking)."""
        s = self.context.settings
        if s.http_bearer_token_file is not None:
            token = _read(s.http_bearer_token_file)
            self.log.redactor.add(token)
            return f"Bearer {token}"
        if s.bulk_api_key_file is not None:
            key = _read(s.bulk_api_key_file)
            self.log.redactor.add(key)
            return f"ApiKey {key}"
        if s.http_username and s.http_password_file is not None:
            password = _read(s.http_password_file)
            self.log.redactor.add(password)
            pair = f"{s.http_username}:{password}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return None

    def _prepare(self, body: bytes) -> tuple[bytes, dict[str, str]]:
        headers = {"Content-Type": self.content_type}
        auth = self._auth()
        if auth is not None:
            headers["Authorization"] = auth
        if self.context.settings.http_gzip:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        return body, headers

    async def post(self, url: str, body: bytes, extra: dict[str, str] | None = None) -> Reply:
        """POST ``body``; returns the reply for 2xx and non-retryable 4xx, raises otherwise."""
        assert self.session is not None, "post() before open()"
        try:
            data, headers = await asyncio.to_thread(self._prepare, body)
        except OSError as exc:
            self._error = f"cannot read credentials: {one_line(exc)}"
            raise OutputError(self._error) from None
        headers.update(extra or {})
        try:
            async with self.session.post(url, data=data, headers=headers) as response:
                payload = await response.read()
                status = response.status
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self._error = one_line(exc) or type(exc).__name__
            raise OutputError(f"{self.name}: {self._error}") from None
        if status == 429 or status >= 500:
            self._error = f"HTTP {status}: {_snippet(payload)}"
            raise RetryableHttpError(f"{self.name} answered {self._error}", retry_after)
        self._error = None
        return Reply(status, payload)

    def rejected(self, reply: Reply, count: int) -> int:
        """Log a batch the store refused for good; returns ``count`` (what was dropped)."""
        self.log.error(
            "store rejected records; dropping them",
            output=self.name,
            status=reply.status,
            reason=_snippet(reply.body),
            records=count,
        )
        return count

    def reachable(self) -> bool | str:
        return True if self._error is None else self._error

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def _snippet(body: bytes, limit: int = 300) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[:limit] + "..."
