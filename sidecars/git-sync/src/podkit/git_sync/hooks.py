"""Hooks run when a sync publishes a new hash: the exec hook, the webhook, the pre-publish hook.

A :class:`HookRunner` owns one hook and a one-slot mailbox: :meth:`HookRunner.send` replaces any
hash still waiting, so a hook that is slow or failing runs only for the newest hash, never a
backlog. A failed run is retried after the hook's backoff (with the newest hash by then), until it
succeeds; in ``--one-time`` mode the first outcome is final and :meth:`HookRunner.wait_result`
returns it. :class:`ExecHook` runs a command (no shell, no arguments) in the hash's worktree with
``GITSYNC_HASH`` set; :class:`WebHook` sends ``--webhook-method`` to ``--webhook-url`` with the
``Gitsync-Hash`` header and checks the status (0: fire and forget). The pre-publish hook is an
:class:`ExecHook` called directly by the sync, with :func:`run_with_retries`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from podkit.core import get_logger
from podkit.git_sync.gitcmd import CommandError, run_command
from podkit.git_sync.metrics import GitSyncMetrics

if TYPE_CHECKING:
    import aiohttp

log = get_logger("podkit.git_sync.hooks")


class HookError(Exception):
    """A hook run failed."""


class Hook(Protocol):
    name: str

    async def run(self, sha: str) -> None: ...


class ExecHook:
    """Runs ``command`` in the worktree of the hash, with ``GITSYNC_HASH`` in its environment."""

    def __init__(
        self,
        name: str,
        command: str,
        worktree_for: Callable[[str], Path],
        timeout: float,
        env: Mapping[str, str],
    ) -> None:
        self.name = name
        self.command = command
        self.worktree_for = worktree_for
        self.timeout = timeout
        self.env = dict(env)

    async def run(self, sha: str) -> None:
        env = dict(self.env)
        env["GITSYNC_HASH"] = sha
        cwd = self.worktree_for(sha)
        log.info(f"running {self.name}", hash=sha, command=self.command)
        try:
            result = await run_command(
                [self.command], cwd=cwd, env=env, timeout=self.timeout, error=CommandError
            )
        except CommandError as exc:
            raise HookError(f"{self.name} failed: {exc}") from None
        log.debug(f"{self.name} succeeded", hash=sha, stdout=result.stdout, stderr=result.stderr)


class WebHook:
    """Calls a URL with the ``Gitsync-Hash`` header; ``success_status`` 0 accepts any answer."""

    name = "webhook"

    def __init__(self, url: str, method: str, success_status: int, timeout: float) -> None:
        self.url = url
        self.method = method.upper()
        self.success_status = success_status
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def run(self, sha: str) -> None:
        import aiohttp  # only with --webhook-url

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        log.info("sending webhook", hash=sha, url=self.url, method=self.method)
        try:
            async with self._session.request(
                self.method,
                self.url,
                headers={"Gitsync-Hash": sha},
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            if self.success_status == 0 and isinstance(exc, TimeoutError):
                return  # fire and forget: the request went out
            raise HookError(f"webhook to {self.url} failed: {type(exc).__name__}: {exc}") from None
        if self.success_status and status != self.success_status:
            raise HookError(
                f"webhook to {self.url} answered {status}, expected {self.success_status}"
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def run_with_retries(hook: Hook, sha: str, backoff: float, metrics: GitSyncMetrics) -> None:
    """Run ``hook`` until it succeeds, waiting ``backoff`` between attempts."""
    while True:
        try:
            await hook.run(sha)
        except HookError as exc:
            metrics.hook_runs.labels(hook.name, "error").inc()
            log.error(
                f"{hook.name} failed; will retry", hash=sha, retry_seconds=backoff, error=str(exc)
            )
            await asyncio.sleep(backoff)
            continue
        metrics.hook_runs.labels(hook.name, "success").inc()
        return


class HookRunner:
    """Runs one hook in the background for the newest hash sent to it."""

    def __init__(
        self, hook: Hook, backoff: float, metrics: GitSyncMetrics, one_time: bool = False
    ) -> None:
        self.hook = hook
        self.backoff = backoff
        self.metrics = metrics
        self.one_time = one_time
        self._pending: str | None = None
        self._wake = asyncio.Event()
        self._result: asyncio.Future[bool] | None = None

    def send(self, sha: str) -> None:
        """Ask for a run with ``sha``; replaces a hash still waiting."""
        self._pending = sha
        self._wake.set()

    def _first_result(self) -> asyncio.Future[bool]:
        if self._result is None:
            self._result = asyncio.get_running_loop().create_future()
        return self._result

    async def wait_result(self) -> bool:
        """In one-time mode: whether the first run succeeded."""
        return await self._first_result()

    def _report(self, ok: bool) -> None:
        result = self._first_result()
        if not result.done():
            result.set_result(ok)

    async def loop(self) -> None:
        """The background task: run the hook for each newest hash, retrying after backoff."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            sha = self._pending
            if sha is None:
                continue
            started = time.monotonic()
            try:
                await self.hook.run(sha)
            except HookError as exc:
                self.metrics.hook_runs.labels(self.hook.name, "error").inc()
                if self.one_time:
                    log.error(f"{self.hook.name} failed", hash=sha, error=str(exc))
                    self._pending = None
                    self._report(False)
                    continue
                log.error(
                    f"{self.hook.name} failed; will retry",
                    hash=sha,
                    retry_seconds=self.backoff,
                    error=str(exc),
                )
                await asyncio.sleep(self.backoff)
                # retry with the newest hash (a newer one may have arrived meanwhile)
                self._wake.set()
                continue
            self.metrics.hook_runs.labels(self.hook.name, "success").inc()
            log.info(
                f"{self.hook.name} succeeded",
                hash=sha,
                seconds=round(time.monotonic() - started, 3),
            )
            if self._pending == sha:
                self._pending = None
            self._report(True)
