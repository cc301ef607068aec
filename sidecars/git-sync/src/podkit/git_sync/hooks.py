"""Hooks run when a sync publishes a new hash: the exec hook, the webhook, the pre-publish hook.

A :class:`HookRunner` owns one hook and a one-slot mailbox: :meth:`HookRunner.send` replaces any
hash still waiting, so a hook that is slow or failing runs only for the newest hash, never a
backlog. A failed run is retried after the hook's backoff (with the newest hash by then) until it
succeeds, by :func:`retry_until_ok`, the one retry loop; in ``--one-time`` mode the first outcome
is final and :meth:`HookRunner.wait_result` returns it. :class:`ExecHook` runs a command (no
shell, no arguments) in the hash's worktree with ``GITSYNC_HASH`` set; :class:`WebHook` sends
``--webhook-method`` to ``--webhook-url`` with the ``Gitsync-Hash`` header and checks the status
(0: fire and forget). :class:`SyncHooks` is the one seam a sync calls out through: credentials
before it, the pre-publish hook before the link swap, the touch file and the runners after.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from podkit.core import get_logger
from podkit.git_sync.gitcmd import CommandError, run_command
from podkit.git_sync.metrics import GitSyncMetrics
from podkit.git_sync.touchfile import touch

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


async def run_counted(hook: Hook, sha: str, metrics: GitSyncMetrics) -> HookError | None:
    """Run ``hook`` once for ``sha``, count it in ``metrics``; the error, if it failed."""
    started = time.monotonic()
    try:
        await hook.run(sha)
    except HookError as exc:
        metrics.hook_runs.inc(hook.name, "error")
        return exc
    metrics.hook_runs.inc(hook.name, "success")
    log.info(f"{hook.name} succeeded", hash=sha, seconds=round(time.monotonic() - started, 3))
    return None


async def retry_until_ok(
    hook: Hook, newest: Callable[[], str], backoff: float, metrics: GitSyncMetrics
) -> str:
    """Run ``hook`` until a run succeeds, ``backoff`` apart, each time with the hash ``newest``
    names then (a newer one may have come meanwhile); returns the hash that succeeded."""
    while True:
        sha = newest()
        error = await run_counted(hook, sha, metrics)
        if error is None:
            return sha
        log.error(
            f"{hook.name} failed; will retry", hash=sha, retry_seconds=backoff, error=str(error)
        )
        await asyncio.sleep(backoff)


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

    def _newest(self) -> str:
        assert self._pending is not None  # only called once a hash was sent
        return self._pending

    async def loop(self) -> None:
        """The background task: run the hook for each newest hash, retrying after backoff."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._pending is None:
                continue
            if self.one_time:  # the first outcome is final
                sha = self._pending
                error = await run_counted(self.hook, sha, self.metrics)
                if error is not None:
                    log.error(f"{self.hook.name} failed", hash=sha, error=str(error))
                self._pending = None
                self._report(error is None)
                continue
            sha = await retry_until_ok(self.hook, self._newest, self.backoff, self.metrics)
            if self._pending == sha:
                self._pending = None
            self._report(True)


class SyncHooks:
    """The one seam through which a sync calls out, at its three points.

    Before a sync: :meth:`before_sync` refreshes the credentials (password files, the askpass
    URL, the GitHub App token). Before the link swap: :meth:`before_publish` runs the pre-publish
    hook in the new worktree until it succeeds (the sync's deadline bounds it). After a publish
    (and after the first sync): :meth:`after_publish` touches ``--touch-file`` and hands the
    hash to the exec hook's and webhook's runners.
    """

    def __init__(
        self,
        metrics: GitSyncMetrics,
        *,
        refresh: Callable[[], Awaitable[None]] | None = None,
        pre_publish: ExecHook | None = None,
        pre_publish_backoff: float = 3.0,
        runners: Sequence[HookRunner] = (),
        touch_file: Path | None = None,
    ) -> None:
        self.metrics = metrics
        self.refresh = refresh
        self.pre_publish = pre_publish
        self.pre_publish_backoff = pre_publish_backoff
        self.runners = list(runners)
        self.touch_file = touch_file

    async def before_sync(self) -> None:
        if self.refresh is not None:
            await self.refresh()

    async def before_publish(self, sha: str) -> None:
        if self.pre_publish is not None:
            await retry_until_ok(
                self.pre_publish, lambda: sha, self.pre_publish_backoff, self.metrics
            )

    def after_publish(self, sha: str) -> None:
        if self.touch_file is not None:
            try:
                touch(self.touch_file)
            except OSError as exc:
                log.error(
                    "failed to touch the touch-file", path=str(self.touch_file), error=str(exc)
                )
        for runner in self.runners:
            runner.send(sha)

    async def one_time_results(self) -> bool:
        """In ``--one-time`` mode: whether every hook's first run succeeded."""
        ok = True
        for runner in self.runners:
            ok = await runner.wait_result() and ok
        return ok
