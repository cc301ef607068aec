"""podkit-git-sync: keeps a shared volume in sync with a git repository (git-sync v4 compatible).

Embed it (``async with GitSync(GitSyncSettings(repo=..., root=...)) as sync: ...``) or run the
``podkit-git-sync`` command, which takes kubernetes/git-sync v4's flags and ``GITSYNC_*`` env vars.
The names below are imported when first used, so ``import podkit.git_sync`` (and the command's
``--version``) loads nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "GitSync": "podkit.git_sync.service",
    "GitSyncSettings": "podkit.git_sync.settings",
    "Credential": "podkit.git_sync.settings",
}

__all__ = ["Credential", "GitSync", "GitSyncSettings", "__version__"]

if TYPE_CHECKING:
    from podkit.git_sync.service import GitSync
    from podkit.git_sync.settings import Credential, GitSyncSettings


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
