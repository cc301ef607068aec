"""One sync: ask the remote, fetch the ref, check it out, run the pre-publish hook, publish.

:meth:`Syncer.sync` is a single attempt, bounded by the caller's deadline. When a tree is already
published and the remote still names the same commit (one ``git ls-remote``, no object transfer),
it is a no-op. Otherwise it fetches only the ref (``--depth``, ``--filter``), resolves the commit
(annotated tags peeled), makes the worktree ``<root>/.worktrees/<hash>``, runs the pre-publish
hook in it, and swaps the link. Cancelling it at any point (shutdown, the deadline) leaves the
link on a complete tree: the link changes in one rename, after everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podkit.core import get_logger
from podkit.git_sync.hooks import SyncHooks
from podkit.git_sync.metrics import GitSyncMetrics
from podkit.git_sync.removal import remove_tree
from podkit.git_sync.repo import FetchOptions, Repo, is_sha
from podkit.git_sync.settings import GitSyncSettings
from podkit.git_sync.worktree import Worktrees

log = get_logger("podkit.git_sync.sync")


@dataclass(frozen=True)
class Outcome:
    """What a sync did: the commit now published, and whether it changed."""

    sha: str
    changed: bool


class Syncer:
    """Syncs ``root`` with the ref of the remote; one :meth:`sync` call per attempt."""

    def __init__(
        self,
        settings: GitSyncSettings,
        repo: Repo,
        worktrees: Worktrees,
        metrics: GitSyncMetrics,
        hooks: SyncHooks,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.worktrees = worktrees
        self.metrics = metrics
        self.hooks = hooks
        self.ref = settings.ref
        self.options = FetchOptions(depth=settings.depth, filter=settings.filter)
        self.syncs = 0

    async def sync(self) -> Outcome:
        await self.hooks.before_sync()
        await self.repo.ensure()
        current_path, current = self.worktrees.current()
        if self.syncs > 0 and current is not None and not is_sha(self.ref):
            remote = await self.repo.remote_hash(self.ref)
            if remote == current and await self._published(current, current_path):
                log.debug("no update required", ref=self.ref, hash=current)
                return Outcome(current, changed=False)
        sha = await self._fetch()
        # git_fetch_count_total counts as git-sync does: the first sync and each one that
        # publishes a new commit, not the polls that found nothing new
        if sha == current and await self._published(sha, current_path):
            if self.syncs == 0:
                self.metrics.fetch_count.inc()
            self.syncs += 1
            return Outcome(sha, changed=False)
        self.metrics.fetch_count.inc()
        log.info("update required", ref=self.ref, local=current or "", remote=sha)
        await self.repo.set_head(sha)
        path = await self.worktrees.create(
            sha,
            sparse_file=self.settings.sparse_checkout_file,
            submodules=self.settings.submodules,
            depth=self.settings.depth,
        )
        await self.hooks.before_publish(sha)
        previous = self.worktrees.publish(sha)
        if previous is not None and self.worktrees.is_legacy(previous):
            # a tree of git-sync v3's layout (<root>/<hash>): the stale cleanup, which looks in
            # .worktrees, would never see it, so it goes now, as git-sync v4 removes it
            log.info("removing a worktree of the v3 layout", path=str(previous))
            await remove_tree(previous)
        self.syncs += 1
        log.info("updated successfully", ref=self.ref, hash=sha, worktree=str(path))
        return Outcome(sha, changed=True)

    async def _published(self, sha: str, current_path: Path | None) -> bool:
        """Whether the link points at ``sha``'s own worktree and that worktree is whole."""
        return current_path == self.worktrees.path_for(sha) and await self.worktrees.healthy(sha)

    async def _fetch(self) -> str:
        ref = self.ref
        if is_sha(ref) and await self.repo.has_commit(ref):
            return ref.lower()
        sha = await self.repo.fetch(ref, self.options)
        if is_sha(ref) and sha != ref.lower():
            raise ValueError(f"fetched {ref} but got {sha}")
        return sha
