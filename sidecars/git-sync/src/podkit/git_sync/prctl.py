"""Linux's ``prctl(2)`` through ctypes, loaded on first use (ctypes is not imported before).

Two callers: every git child asks for ``PR_SET_PDEATHSIG`` so it dies with the sidecar
(:mod:`.gitcmd`), and as PID 1 the command makes itself a child subreaper (:mod:`.init`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


@functools.cache
def prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, loaded once in this process; None when not on Linux or not found."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function: Callable[..., int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return function
