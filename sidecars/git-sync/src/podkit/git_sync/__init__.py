"""podkit-git-sync: keeps a shared volume in sync with a git repository (git-sync v4 compatible).

Embed it (``async with GitSync(GitSyncSettings(repo=..., root=...)) as sync: ...``) or run the
``podkit-git-sync`` command, which takes kubernetes/git-sync v4's flags and ``GITSYNC_*`` env vars.
"""

__version__ = "0.1.0"

from podkit.git_sync.service import GitSync
from podkit.git_sync.settings import Credential, GitSyncSettings

__all__ = ["Credential", "GitSync", "GitSyncSettings", "__version__"]
