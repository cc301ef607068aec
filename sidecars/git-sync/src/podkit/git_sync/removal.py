"""Removing files and trees without ever blocking the event loop, and cleaning up after failures.

A worktree can hold hundreds of thousands of files: :func:`remove_tree` deletes a directory in a
child process (``rm -rf``), killed with its process group if the caller is cancelled (SIGTERM,
the sync deadline), so ``/healthz`` keeps answering and shutdown is never held up by a removal; a
file or a symlink is unlinked in place. :func:`scrub_git_dir` removes what a failed ``git fetch``
leaves in the object store (``tmp_obj_*`` loose objects, ``tmp_pack_*`` / ``tmp_idx_*`` /
``tmp_rev_*`` half-written packs, ``incoming-*`` quarantine directories): on a full disk those are
what keeps every later fetch failing. Its walk runs in a worker thread; it is bounded (the object
store's 256 fan-out directories and the pack directory).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from pathlib import Path

from podkit.git_sync.gitcmd import run_command

_TEMP_PREFIXES = ("tmp_obj_", "tmp_pack_", "tmp_idx_", "tmp_rev_", "tmp_mtimes_", "tmp_bitmap_")


async def remove_tree(path: Path) -> None:
    """Remove a file, a symlink or a directory tree; missing is fine."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    # PATH only: nothing of this process's environment (secrets) reaches the child
    env = {"PATH": os.environ.get("PATH", os.defpath)}
    await run_command(["rm", "-rf", "--", str(path)], env=env)


def _scrub(git_dir: Path) -> list[str]:
    objects = git_dir / "objects"
    removed: list[str] = []
    dirs = [objects, objects / "pack"]
    try:
        dirs += [entry for entry in objects.iterdir() if len(entry.name) == 2]
    except OSError:
        return removed
    for directory in dirs:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(_TEMP_PREFIXES) or (
                directory == objects and name.startswith("incoming-")
            ):
                try:
                    if entry.is_dir(follow_symlinks=False):
                        _rmtree(Path(entry.path))
                    else:
                        os.unlink(entry.path)
                except OSError:
                    continue
                removed.append(os.path.relpath(entry.path, git_dir))
    return removed


def _rmtree(path: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(path, topdown=False):
        for name in filenames:
            os.unlink(os.path.join(dirpath, name))
        for name in dirnames:
            os.rmdir(os.path.join(dirpath, name))
    os.rmdir(path)


async def scrub_git_dir(git_dir: Path) -> list[str]:
    """Remove the temporary objects and packs a failed fetch left in ``git_dir``; what went."""
    if not (git_dir / "objects").is_dir():
        return []
    return await asyncio.to_thread(_scrub, git_dir)
