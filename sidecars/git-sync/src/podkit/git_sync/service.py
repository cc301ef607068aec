"""The git-sync service: the poll loop, failure budget, hooks and HTTP surface around :class:`Syncer`.

:class:`GitSync` prepares the root (canonical path, crash recovery), the private git config and
credentials, then loops: sync, then wait ``--period`` (``--init-period`` until the first success)
or until ``--sync-on-signal`` / SIGHUP asks for a sync now. A failure is counted; past
``--max-failures`` (``--init-max-failures`` before the first success; negative: never) the service
ends with exit 1; retries back off exponentially with jitter, capped by the period. The first
success makes it ready (``/`` answers 200, ``/readyz`` clears); each sync that publishes (and the
first) calls :meth:`SyncHooks.after_publish` (touch file, exec hook, webhook). The cleanup of a
sync (stale worktrees, prune, gc) runs in the background while the loop waits; a failed sync is
cleaned up after (:meth:`Repo.after_failure`) before the next one. ``--one-time`` ends after the
first success once the hooks ran (exit 0, or 1 if a hook failed); a SHA ref stops polling once
synced. A sync runs as in-flight work, so SIGTERM lets it finish within the grace period or
cancels it, and the link only ever points at a complete tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import random
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from podkit.core import Service, one_line
from podkit.core.goexposition import CONTENT_TYPE
from podkit.git_sync import __version__
from podkit.git_sync.auth import GitAuth, sweep_private_dirs
from podkit.git_sync.errorfile import ErrorFile
from podkit.git_sync.gitcmd import scrubbed_environ
from podkit.git_sync.hooks import ExecHook, HookRunner, SyncHooks, WebHook
from podkit.git_sync.metrics import GitSyncMetrics, render
from podkit.git_sync.repo import Repo, is_sha
from podkit.git_sync.settings import GitSyncSettings
from podkit.git_sync.sync import Outcome, Syncer
from podkit.git_sync.worktree import Worktrees

if TYPE_CHECKING:
    from aiohttp import web
    from prometheus_client import CollectorRegistry

    from podkit.git_sync.push import PushWebhook


def _abs(path: str, root: Path) -> Path | None:
    if not path:
        return None
    return Path(path) if os.path.isabs(path) else root / path


class SyncTimeout(Exception):
    """One sync took longer than ``--sync-timeout``."""


def backoff_delay(failures: int, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff from 1s (or ``cap`` if smaller), doubled per failure, capped, jittered."""
    base = min(1.0, cap)
    delay = min(cap, base * 2.0 ** min(max(failures - 1, 0), 30))
    jitter: float = (rng or random).uniform(0.5, 1.0)
    return delay * jitter


class GitSync(Service[GitSyncSettings]):
    """Keeps ``<root>/<link>`` on the newest commit of ``--ref`` in ``--repo``."""

    name = "git-sync"
    version = __version__
    metrics_prefix = "git_sync"
    settings_class = GitSyncSettings
    description = (
        "Keep a directory in sync with a git repository: a drop-in replacement for "
        "kubernetes/git-sync v4. Every flag can also be set with its GITSYNC_* env var."
    )

    def __init__(
        self, settings: GitSyncSettings | None = None, *, registry: CollectorRegistry | None = None
    ) -> None:
        super().__init__(settings, registry=registry)
        self.metrics = GitSyncMetrics()
        served = self.settings.http_metrics and self.settings.admin_listen is not None
        if registry is not None or served:  # else prometheus-client is never loaded
            self.metrics.register(self.registry)
        self.synced = False
        self.last_hash: str | None = None
        self.sync_count = 0
        self.failures = 0
        self._trigger = asyncio.Event()
        self._cleaning: asyncio.Task[None] | None = None
        self._signal: signal.Signals | None = None
        self._auth: GitAuth | None = None
        self._runners: list[HookRunner] = []
        self._webhook: WebHook | None = None
        self.root = Path(self.settings.root)
        self.link = Path()
        self.error_file = ErrorFile(None, self.log.child("errorfile"))
        self.touch_file: Path | None = None
        self.admin.add_route("GET", "/", self._index)
        if self.settings.http_metrics:
            self.admin.add_route("GET", self.metrics_path, self._metrics)
        if self.settings.http_pprof and self.settings.admin_listen is not None:
            from podkit.git_sync import pprof

            pprof.install(self.admin, lambda: [self.redactor(arg) for arg in sys.argv])
        self.push_webhook: PushWebhook | None = None
        if self.settings.push_webhook_path:
            from podkit.git_sync.push import PushWebhook

            self.push_webhook = PushWebhook(
                self.trigger,
                self.registry,
                self.log.child("push"),
                secret=self.settings.push_webhook_secret,
                secret_file=self.settings.push_webhook_secret_file,
            )
            self.admin.add_route("*", self.settings.push_webhook_path, self.push_webhook.handle)

    # --- podkit hooks --------------------------------------------------------------------------

    @classmethod
    def preflight(cls, settings: GitSyncSettings) -> int | None:
        """``--man`` prints the manual and exits 0, whatever else is (or is not) given."""
        if settings.man:
            from podkit.git_sync.manual import manual

            sys.stdout.write(manual())
            sys.stdout.flush()
            return 0
        return None

    def log_level(self) -> str | int:
        if self.settings.log_level != "info":
            return self.settings.log_level
        return logging.INFO - self.settings.verbose

    def metrics_enabled(self) -> bool:
        return self.settings.http_metrics

    async def on_start(self) -> None:
        s = self.settings
        for notice in s.deprecations:
            self.log.warning(notice)
        if shutil.which(s.git) is None:
            raise RuntimeError(f"git executable not found: {s.git!r} (--git)")
        if s.group_write:
            os.umask(0o002)
        if s.add_user:
            _add_user()
        self.root = _prepare_root(s.root)
        self.link = _abs(s.link, self.root) or self.root / "link"
        self.error_file = ErrorFile(_abs(s.error_file, self.root), self.log.child("errorfile"))
        self.touch_file = _abs(s.touch_file, self.root)
        swept = await asyncio.to_thread(sweep_private_dirs)
        if swept:
            self.log.warning("removed private directories left by killed runs", paths=swept)
        self._auth = GitAuth(s, self.log.child("auth"))
        await self._auth.configure()
        git = self._auth.git
        self.repo = Repo(git, self.root, s.repo)
        self.worktrees = Worktrees(git, self.root, self.link)
        await asyncio.to_thread(self.repo.recover)
        if (self.root / ".git").is_dir():
            await self.worktrees.recover()
        pre_publish = None
        hook_env = scrubbed_environ(s.secret_env_names())
        if s.pre_publish_exechook_command:
            pre_publish = ExecHook(
                "pre-publish-exechook",
                s.pre_publish_exechook_command,
                self.worktrees.path_for,
                s.pre_publish_exechook_timeout,
                hook_env,
            )
        if s.exechook_command:
            hook = ExecHook(
                "exechook",
                s.exechook_command,
                self.worktrees.path_for,
                s.exechook_timeout,
                hook_env,
            )
            self._runners.append(HookRunner(hook, s.exechook_backoff, self.metrics, s.one_time))
        if s.webhook_url:
            self._webhook = WebHook(
                s.webhook_url,
                s.webhook_method,
                s.webhook_success_status,
                s.webhook_timeout,
            )
            self._runners.append(
                HookRunner(self._webhook, s.webhook_backoff, self.metrics, s.one_time)
            )
        for runner in self._runners:
            self.spawn(runner.loop(), runner.hook.name)
        auth = self._auth

        async def refresh() -> None:
            await auth.refresh(metrics=self.metrics)

        self.hooks = SyncHooks(
            self.metrics,
            refresh=refresh,
            pre_publish=pre_publish,
            pre_publish_backoff=s.pre_publish_exechook_backoff,
            runners=self._runners,
            touch_file=self.touch_file,
        )
        self.syncer = Syncer(s, self.repo, self.worktrees, self.metrics, self.hooks)
        self._install_signal()
        self.health.not_ready("first-sync", "waiting for the first sync")
        if self.push_webhook is not None:
            self.log.info("push webhook enabled", path=s.push_webhook_path)
        self.log.info(
            "starting",
            repo=s.repo,
            ref=s.ref,
            root=str(self.root),
            link=str(self.link),
            git=s.git,
        )
        self.spawn(self._loop(), "sync")

    async def on_stop(self) -> None:
        self._trigger.set()  # wake the loop so it sees it is stopping

    async def on_close(self) -> None:
        if self._signal is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_signal_handler(self._signal)
        if self._webhook is not None:
            await self._webhook.close()
        if self._auth is not None:
            self._auth.close()

    async def on_reload(self) -> None:
        self.log.info("SIGHUP: syncing now")
        self.trigger()

    def trigger(self) -> None:
        """Sync now instead of at the end of the current wait."""
        self._trigger.set()

    # --- the loop ------------------------------------------------------------------------------

    async def _loop(self) -> None:
        s = self.settings
        while not self.stopping:
            await self._cleaned()
            started = time.monotonic()
            try:
                async with self.work():
                    outcome = await self._attempt()
            except (Exception, TimeoutError) as exc:
                await self._after_failure()
                self.metrics.sync_done("error", time.monotonic() - started)
                self.failures += 1
                limit = (
                    s.max_failures
                    if self.synced or s.init_max_failures is None
                    else s.init_max_failures
                )
                aborting = 0 <= limit < self.failures
                self.error_file.write(
                    "too many failures, aborting" if aborting else "error syncing repo, will retry",
                    exc,
                    failCount=self.failures,
                )
                if aborting:
                    self.log.error(
                        "too many failures, aborting",
                        fail_count=self.failures,
                        error=one_line(exc),
                    )
                    self.finish(1)
                    return
                cap = s.init_period if not self.synced and s.init_period is not None else s.period
                delay = backoff_delay(self.failures, cap)
                self.log.error(
                    "error syncing repo, will retry",
                    fail_count=self.failures,
                    retry_seconds=round(delay, 3),
                    error=one_line(exc),
                )
                await self._sleep(delay)
                continue
            first = not self.synced
            self.synced = True
            self.health.ready("first-sync")
            if outcome.changed or self.sync_count == 0:
                self.last_hash = outcome.sha
                self.hooks.after_publish(outcome.sha)
                self.metrics.sync_done("success", time.monotonic() - started)
            else:
                self.metrics.sync_done("noop", time.monotonic() - started)
            self.sync_count += 1
            if first:
                self.log.info("first sync done", hash=outcome.sha)
            # the cleanup (stale worktrees, prune, gc) runs while the loop waits for the next
            # sync, not before the wait: a push made meanwhile is seen a cleanup sooner
            self._cleaning = self.spawn(self._cleanup(), "cleanup")
            self.failures = 0
            self.error_file.remove()
            if s.one_time:
                await self._cleaned()
                code = 0 if await self.hooks.one_time_results() else 1
                self.log.info("exiting after one sync", status=code)
                self.finish(code)
                return
            if is_sha(s.ref) and outcome.sha == s.ref.lower():
                self.log.info("ref is a commit hash; no further sync needed", ref=s.ref)
                await self._cleaned()
                return
            await self._sleep(s.period)

    async def _attempt(self) -> Outcome:
        s = self.settings
        try:
            async with asyncio.timeout(s.sync_timeout):
                return await self.syncer.sync()
        except TimeoutError:
            raise SyncTimeout(
                f"the sync did not finish within --sync-timeout={s.sync_timeout:g}s "
                "(git was stopped)"
            ) from None

    async def _cleaned(self) -> None:
        """Wait for the cleanup of the previous sync, if it still runs (never two gits at once)."""
        if self._cleaning is not None:
            await asyncio.wait({self._cleaning})
            self._cleaning = None

    async def _after_failure(self) -> None:
        try:
            async with asyncio.timeout(self.settings.sync_timeout):
                await self.repo.after_failure()
        except (Exception, TimeoutError) as exc:
            self.log.error("cleaning up after the failed sync failed", error=one_line(exc))

    async def _cleanup(self) -> None:
        s = self.settings
        try:
            async with asyncio.timeout(s.sync_timeout):
                await self.worktrees.cleanup(s.stale_worktree_timeout, s.git_gc)
        except (Exception, TimeoutError) as exc:
            self.log.error("git cleanup failed", error=one_line(exc))

    async def _sleep(self, seconds: float) -> None:
        if self.stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._trigger.wait(), seconds)
        self._trigger.clear()

    # --- helpers -------------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web  # the admin server that calls this has loaded it

        if not self.synced:
            return web.Response(status=503, text="repo is not ready\n")
        return web.Response(status=200, text="")

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        """``/metrics`` in git-sync's Go text format, gzipped when the scraper accepts it."""
        from aiohttp import web

        response = web.Response(body=render(self.registry), headers={"Content-Type": CONTENT_TYPE})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            response.enable_compression()
        return response

    def _install_signal(self) -> None:
        sig = self.settings.sync_signal
        if sig is None:
            return
        try:
            asyncio.get_running_loop().add_signal_handler(sig, self.trigger)
        except (RuntimeError, ValueError) as exc:
            self.log.warning(
                "can't install the sync signal handler", signal=sig.name, error=str(exc)
            )
            return
        self._signal = sig
        self.log.debug("installed signal handler", signal=sig.name)


class RootError(Exception):
    """``--root`` can't be used: the message names the path and what is wrong with it."""


def _prepare_root(root: str) -> Path:
    """Create the root and return its canonical path (symlinks resolved, as git-sync does)."""
    path = Path(os.path.abspath(root))
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o775)
    except FileExistsError:
        raise RootError(f"can't make root dir {path}: it exists and is not a directory") from None
    except NotADirectoryError:
        raise RootError(
            f"can't make root dir {path}: a parent of it exists and is not a directory"
        ) from None
    except OSError as exc:
        raise RootError(f"can't make root dir {path}: {exc.strerror or exc}") from None
    real = Path(os.path.realpath(path))
    if not os.access(real, os.W_OK | os.X_OK):
        raise RootError(f"can't use root dir {real}: it is not writable by uid {os.getuid()}")
    return real


def _add_user() -> None:
    """Add the current UID/GID to /etc/passwd if missing (SSH looks the user up)."""
    uid, gid = os.getuid(), os.getgid()
    try:
        pwd.getpwuid(uid)
        return
    except KeyError:
        pass
    home = os.environ.get("HOME") or os.getcwd()
    with open("/etc/passwd", "a", encoding="utf-8") as handle:
        handle.write(f"git-sync:x:{uid}:{gid}::{home}:/sbin/nologin\n")
