"""The repository at ``--root``: making it usable, recovering it after a crash, fetching the ref.

``--root`` is a plain (non-bare) git repository whose ``origin`` is ``--repo``; git-sync owns it.
:meth:`Repo.ensure` creates it, or checks it (it is the top level of its own repository, git can
read it) and wipes and re-initialises it when it is not usable — keeping the directory itself,
which is often a mounted volume. :meth:`Repo.recover` runs once at start-up and clears what a
killed git leaves behind (``*.lock`` files), and :meth:`Repo.after_failure` what a failed sync
left (temporary objects, half-written packs, locks, worktree entries). :meth:`Repo.remote_hash` asks the remote what the
ref points at (one ``ls-remote`` round trip, no objects), and :meth:`Repo.fetch` fetches only that
ref, with ``--depth`` and ``--filter``, and returns the commit it resolves to (annotated tags
peeled).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from podkit.core import get_logger
from podkit.git_sync.gitcmd import Git, GitError
from podkit.git_sync.removal import remove_tree, scrub_git_dir

log = get_logger("podkit.git_sync.repo")

SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
LOCK_FILES = ("index.lock", "shallow.lock", "HEAD.lock", "config.lock", "packed-refs.lock")


def is_sha(ref: str) -> bool:
    return bool(SHA_RE.match(ref.lower()))


@dataclass
class FetchOptions:
    depth: int = 1
    filter: str = ""


class Repo:
    """The git repository at ``root`` that mirrors ``remote``."""

    def __init__(self, git: Git, root: Path, remote: str) -> None:
        self.git = git
        self.root = root
        self.remote = remote
        self._checked = False
        self._ensured = False

    def invalidate(self) -> None:
        """Check the repository in full at the next :meth:`ensure` (after a failed sync)."""
        self._ensured = False

    async def after_failure(self) -> None:
        """Start the next attempt clean: what a failed or killed git left goes now.

        Temporary objects and half-written packs (on a full disk they keep every later fetch
        failing), lock files, and worktree entries whose directory is gone (``git worktree
        prune``); the next :meth:`ensure` checks the repository in full. Only called between
        syncs, when no git runs in this root.
        """
        self.invalidate()
        if not self.git_dir.is_dir():
            return
        scrubbed = await scrub_git_dir(self.git_dir)
        if scrubbed:
            log.warning("removed what a failed git left in the object store", files=scrubbed)
        await asyncio.to_thread(self.recover)
        try:
            await self.git.run("worktree", "prune", cwd=self.root, timeout=60)
        except GitError as exc:
            log.warning("git worktree prune failed", error=str(exc))

    @property
    def git_dir(self) -> Path:
        return self.root / ".git"

    # --- making the root usable --------------------------------------------------------------

    def recover(self) -> list[str]:
        """Remove lock files a killed git left behind; returns what was removed.

        Only safe while no git runs in this root: at start-up, before the first sync.
        """
        removed: list[str] = []
        if not self.git_dir.is_dir():
            return removed
        candidates = [self.git_dir / name for name in LOCK_FILES]
        candidates += list((self.git_dir / "refs").rglob("*.lock"))
        worktrees = self.git_dir / "worktrees"
        if worktrees.is_dir():
            for entry in worktrees.iterdir():
                candidates += [entry / "index.lock", entry / "HEAD.lock"]
        for path in candidates:
            if path.is_file():
                path.unlink(missing_ok=True)
                removed.append(str(path.relative_to(self.root)))
        if removed:
            log.warning("removed stale git lock files left by an earlier crash", files=removed)
        return removed

    async def ensure(self) -> None:
        """Make sure ``root`` is a usable repository with ``origin`` = the remote.

        After one success it only looks for the git dir and lock files (no git runs), until
        :meth:`invalidate`: an idle poll should cost one ``ls-remote``.
        """
        if self._ensured and self.git_dir.is_dir() and not self._locked():
            return
        self._ensured = False
        self.root.mkdir(parents=True, exist_ok=True)
        fresh = False
        if not await self._usable():
            if any(self.root.iterdir()):
                log.warning(
                    "root is not a usable git repository; re-initialising", root=str(self.root)
                )
                for entry in list(self.root.iterdir()):
                    await remove_tree(entry)
            else:
                log.info("initialising the root repository", root=str(self.root))
            await self.git.run("init", "-q", "-b", "git-sync", cwd=self.root)
            if not self.git_dir.is_dir():
                raise GitError(["git", "init"], None, "", f"can't initialise {self.root}")
            fresh = self._checked = True  # a repository git just made needs no fsck
        if fresh:  # no origin yet: one git instead of asking first
            await self.git.run("remote", "add", "origin", self.remote, cwd=self.root)
            self._ensured = True
            return
        try:
            current = (await self.git.run("remote", "get-url", "origin", cwd=self.root)).strip()
        except GitError as exc:
            if "No such remote" not in exc.stderr:
                raise
            await self.git.run("remote", "add", "origin", self.remote, cwd=self.root)
        else:
            if current != self.remote:
                log.info("--repo changed; updating origin", root=str(self.root))
                await self.git.run("remote", "set-url", "origin", self.remote, cwd=self.root)
        self._ensured = True

    def _locked(self) -> bool:
        """Whether a git left a lock that makes the root unusable (a fetch or checkout died)."""
        return any((self.git_dir / name).exists() for name in ("shallow.lock", "index.lock"))

    async def _usable(self) -> bool:
        if not self.git_dir.is_dir():
            return False
        try:
            top = await self.git.run("rev-parse", "--show-toplevel", cwd=self.root)
        except GitError:
            return False
        if Path(top.strip()) != self.root:
            log.warning("root is inside another repository", root=str(self.root), top=top.strip())
            return False
        if self._locked():
            return False
        if not self._checked:
            # a full consistency check once per process; later syncs trust the repository
            if not await self.git.ok("fsck", "--no-progress", "--connectivity-only", cwd=self.root):
                log.warning("root failed git fsck", root=str(self.root))
                return False
            self._checked = True
        return True

    # --- asking and fetching -----------------------------------------------------------------

    async def remote_hash(self, ref: str) -> str | None:
        """The commit ``ref`` names on the remote, from one ``ls-remote``; None if not listed.

        Follows git's rules for a short name (exact, ``refs/``, ``refs/tags/``, ``refs/heads/``,
        ...) and peels annotated tags.
        """
        # "<ref>^{}" asks for the peeled line too: without it, an annotated tag lists only the
        # tag object, never equal to the published commit, and every poll would fetch
        out = await self.git.run("ls-remote", "--", self.remote, ref, f"{ref}^{{}}", cwd=self.root)
        refs: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, name = line.partition("\t")
            if sha and name:
                refs[name.strip()] = sha.strip()
        for name in (
            ref,
            f"refs/{ref}",
            f"refs/tags/{ref}",
            f"refs/heads/{ref}",
            f"refs/remotes/{ref}",
            f"refs/remotes/{ref}/HEAD",
        ):
            if name in refs:
                return refs.get(f"{name}^{{}}", refs[name])
        return None

    async def has_commit(self, sha: str) -> bool:
        return await self.git.ok("cat-file", "-e", f"{sha}^{{commit}}", cwd=self.root)

    async def is_shallow(self) -> bool:
        out = await self.git.run("rev-parse", "--is-shallow-repository", cwd=self.root)
        return out.strip() == "true"

    async def fetch(self, ref: str, options: FetchOptions) -> str:
        """Fetch only ``ref`` and return the commit it resolves to.

        Options come before ``--end-of-options``, so neither the remote nor the ref can ever be
        read as an option, whatever it starts with.
        """
        args = ["fetch", "--verbose", "--no-progress", "--prune", "--no-auto-gc"]
        if options.depth > 0:
            args += ["--depth", str(options.depth)]
        elif await self.is_shallow():
            args.append("--unshallow")
        if options.filter:
            args += ["--filter", options.filter]
        await self.git.run(*args, "--end-of-options", self.remote, ref, cwd=self.root)
        return await self.resolve("FETCH_HEAD")

    async def resolve(self, rev: str) -> str:
        """The commit ``rev`` names (annotated tags peeled); never read as a file name."""
        out = await self.git.run(
            "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}", cwd=self.root
        )
        return out.strip()

    async def set_head(self, sha: str) -> None:
        """Point the root's branch at ``sha`` (no files), so later fetches negotiate from it.

        ``--`` after the commit: a file in the root named like the hash must not make the
        argument ambiguous ("both revision and filename").
        """
        await self.git.run("reset", "--soft", f"{sha}^{{commit}}", "--", cwd=self.root)
