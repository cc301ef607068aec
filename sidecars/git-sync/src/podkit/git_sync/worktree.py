"""Worktrees and the published link: the on-disk contract readers rely on.

Each synced commit is checked out in its own worktree ``<root>/.worktrees/<full hash>``; only when
it is complete (files, sparse checkout, submodules, the pre-publish hook) does
:meth:`Worktrees.publish` point ``<root>/<link>`` at it, with a relative symlink made under a
temporary name and renamed over the old one, so a reader sees the old tree or the new one and
never a half-written one. A finished worktree is marked in git's admin directory; at start-up
:meth:`Worktrees.recover` removes temporary links and every unmarked (half-made) worktree.
Worktrees no longer published are removed once older than ``--stale-worktree-timeout``, then
``git worktree prune``, ``git reflog expire`` and ``git gc`` per ``--git-gc``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from podkit.core import get_logger
from podkit.git_sync.gitcmd import Git, GitError
from podkit.git_sync.removal import remove_tree
from podkit.git_sync.repo import is_sha

log = get_logger("podkit.git_sync.worktree")

COMPLETE_MARKER = "podkit-git-sync-complete"
TMP_LINK_PREFIX = ".podkit-tmp-link-"


class Worktrees:
    """The worktrees of the repository at ``root`` and the link that publishes one of them."""

    def __init__(self, git: Git, root: Path, link: Path) -> None:
        self.git = git
        self.root = root
        self.link = link
        self.base = root / ".worktrees"

    def path_for(self, sha: str) -> Path:
        return self.base / sha

    def is_legacy(self, path: Path) -> bool:
        """Whether ``path`` is a worktree of git-sync v3's layout: ``<root>/<hash>``."""
        return path.parent == self.root and is_sha(path.name) and path != self.base

    def _admin_dir(self, sha: str) -> Path:
        return self.root / ".git" / "worktrees" / sha

    # --- the published link ------------------------------------------------------------------

    def current(self) -> tuple[Path | None, str | None]:
        """The worktree the link points at, and its hash (its basename), if any."""
        try:
            target = os.readlink(self.link)
        except OSError:  # no link, or not a symlink
            return None, None
        path = Path(target) if os.path.isabs(target) else self.link.parent / target
        path = Path(os.path.normpath(path))
        return path, path.name

    def publish(self, sha: str) -> Path | None:
        """Point the link at the worktree for ``sha``; returns the worktree it pointed at before."""
        previous, _ = self.current()
        target = self.path_for(sha)
        self.link.parent.mkdir(parents=True, exist_ok=True)
        relative = os.path.relpath(target, self.link.parent)
        tmp = self.link.parent / f"{TMP_LINK_PREFIX}{self.link.name}"
        tmp.unlink(missing_ok=True)
        os.symlink(relative, tmp)
        os.replace(tmp, self.link)
        _fsync_dir(self.link.parent)
        if previous is not None and previous != target and previous.exists():
            # start the stale-worktree clock of the one just replaced
            now = time.time()
            os.utime(previous, (now, now))
        return previous

    # --- making a worktree -------------------------------------------------------------------

    def is_complete(self, sha: str) -> bool:
        return (self._admin_dir(sha) / COMPLETE_MARKER).is_file()

    async def healthy(self, sha: str) -> bool:
        """Whether the worktree for ``sha`` exists, was finished, and has ``sha`` checked out."""
        path = self.path_for(sha)
        if not path.is_dir() or not (path / ".git").exists() or not self.is_complete(sha):
            return False
        try:  # a detached worktree's HEAD file holds the hash: no git process needed
            head = (self._admin_dir(sha) / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            head = ""
        if head == sha:
            return True
        try:
            head = await self.git.run("rev-parse", "--verify", "HEAD", cwd=path)
        except GitError:
            return False
        return head.strip() == sha

    async def create(
        self,
        sha: str,
        *,
        sparse_file: str = "",
        submodules: str = "recursive",
        depth: int = 0,
    ) -> Path:
        """Check ``sha`` out in a fresh worktree (replacing any earlier attempt)."""
        path = self.path_for(sha)
        await self.remove(sha)
        self.base.mkdir(parents=True, exist_ok=True)
        log.debug("adding worktree", path=str(path), hash=sha)
        await self.git.run(
            "worktree",
            "add",
            "--force",
            "--detach",
            str(path),
            sha,
            "--no-checkout",
            cwd=self.root,
        )
        # a relative gitdir, so the volume can be mounted at another path in other containers
        _write_gitdir(path, self.root / ".git" / "worktrees" / sha)
        if sparse_file:
            patterns = _read_text(sparse_file)
            await self.git.run(
                "sparse-checkout",
                "set",
                "--no-cone",
                "--stdin",
                cwd=path,
                stdin=patterns,
            )
        await self.git.run("reset", "--hard", "-q", sha, "--", cwd=path)
        # no .gitmodules: nothing to update (a sparse checkout may leave it out: ask git then)
        if submodules != "off" and (sparse_file or (path / ".gitmodules").exists()):
            args = ["submodule", "update", "--init"]
            if submodules == "recursive":
                args.append("--recursive")
            if depth:
                args += ["--depth", str(depth)]
            await self.git.run(*args, cwd=path)
        (self._admin_dir(sha) / COMPLETE_MARKER).write_text(f"{sha}\n", encoding="utf-8")
        return path

    async def remove(self, sha: str) -> None:
        path = self.path_for(sha)
        if path.exists() or path.is_symlink():
            log.debug("removing worktree", path=str(path))
            await remove_tree(path)
        admin = self._admin_dir(sha)
        if admin.exists():
            await self.git.run("worktree", "prune", cwd=self.root)
            await remove_tree(admin)

    # --- recovery and cleanup ----------------------------------------------------------------

    async def recover(self) -> list[str]:
        """Remove temporary links and half-made worktrees (never the published one)."""
        removed: list[str] = []
        for tmp in (
            self.link.parent / f"{TMP_LINK_PREFIX}{self.link.name}",
            self.link.parent / "tmp-link",
        ):
            if tmp.is_symlink():
                tmp.unlink()
                removed.append(str(tmp))
        _, current = self.current()
        if self.base.is_dir():
            for entry in self.base.iterdir():
                if entry.name == current:
                    continue
                if not is_sha(entry.name) or not self.is_complete(entry.name):
                    await remove_tree(entry)
                    removed.append(str(entry))
        if removed:
            log.warning("removed what an interrupted sync left behind", paths=removed)
        # entries in .git/worktrees whose directory is gone (a killed run, a wiped volume);
        # a root git can't read is re-initialised by the first sync anyway
        await self.git.ok("worktree", "prune", cwd=self.root)
        return removed

    async def remove_stale(self, stale_after: float) -> list[str]:
        """Remove every worktree but the published one whose mtime is older than ``stale_after``."""
        _, current = self.current()
        removed: list[str] = []
        if not self.base.is_dir():
            return removed
        now = time.time()
        for entry in self.base.iterdir():
            if entry.name == current:
                continue
            try:
                age = now - entry.lstat().st_mtime
            except FileNotFoundError:
                continue
            if age >= stale_after:
                await remove_tree(entry)
                removed.append(entry.name)
        return removed

    async def cleanup(self, stale_after: float, gc: str) -> int:
        """Remove stale worktrees; then prune, expire reflogs and gc if anything went."""
        removed = await self.remove_stale(stale_after)
        if not removed:
            return 0
        log.debug("removed stale worktrees", hashes=removed)
        await self.git.run("worktree", "prune", cwd=self.root)
        await self.git.run("reflog", "expire", "--expire-unreachable=all", "--all", cwd=self.root)
        if gc != "off":
            args = ["gc", "--quiet"]
            if gc == "auto":
                args.append("--auto")
            elif gc == "aggressive":
                args.append("--aggressive")
            await self.git.run(*args, cwd=self.root)
        return len(removed)


def _write_gitdir(worktree: Path, admin: Path) -> None:
    rel = os.path.relpath(admin, worktree)
    (worktree / ".git").write_text(f"gitdir: {rel}\n", encoding="utf-8")


def _read_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
