"""podkit-git-sync: keeps a shared volume in sync with a git repository (git-sync v4 compatible).

Embed it (``async with GitSync(GitSyncSettings(repo=..., root=...)) as sync: ...``) or run the
``podkit-git-sync`` command, which takes kubernetes/git-sync v4's flags and ``GITSYNC_*`` env vars.
The names below are imported when first used, so ``import podkit.git_sync`` (and the command's
``--version``) loads nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podkit.core.exports import lazy_exports

__version__ = "0.1.0"

__all__ = ["Credential", "GitSync", "GitSyncSettings", "__version__"]

if TYPE_CHECKING:
    from podkit.git_sync.service import GitSync
    from podkit.git_sync.settings import Credential, GitSyncSettings

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "GitSync": "service",
        "GitSyncSettings": "settings",
        "Credential": "settings",
    },
)
