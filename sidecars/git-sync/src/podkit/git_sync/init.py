"""Acting as PID 1: a tiny init that reaps zombies and forwards signals to the real sidecar.

When the container runs ``podkit-git-sync`` as its entry point with no init, the process is PID 1:
every orphan in the container (git's own children: ``ssh``, remote helpers, an exec hook's
background jobs) is re-parented to it, and nobody else will ``wait()`` for them. Reaping them
from inside the asyncio service is unsafe — a ``waitpid(-1)`` would steal the exit status of a
git subprocess asyncio is waiting for — so :func:`supervise` splits the work: this process
stays PID 1, starts the real service as its only direct child (the same command line), forwards
SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it, reaps every process that
terminates, and exits with the child's exit code (128 + n when a signal n killed it). The child
is an ordinary process, so asyncio's subprocess handling is untouched.

:func:`supervise` also marks itself a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``), so it
reaps orphans even when it is not PID 1 — which is how it can be tested without a PID namespace.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from podkit.git_sync.prctl import PR_SET_CHILD_SUBREAPER, prctl

FORWARDED = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
)
CHILD_ENV = "PODKIT_GIT_SYNC_INIT_CHILD"
"""Set in the child's environment, so it never starts an init of its own."""


def should_supervise() -> bool:
    """Whether this process is PID 1 and not already the supervised child."""
    return os.getpid() == 1 and os.environ.get(CHILD_ENV) != "1"


def _set_subreaper() -> bool:
    call = prctl()
    return call is not None and call(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def exit_code(status: int) -> int:
    """A wait status as a shell would report it: the exit code, or 128 + the signal."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def supervise(argv: Sequence[str]) -> int:
    """Run ``argv`` as the only child, reap every process, forward signals; the child's code."""
    _set_subreaper()
    env = dict(os.environ)
    env[CHILD_ENV] = "1"
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        pending.append(signum)
        if child > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    child = 0
    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        child = os.fork()
        if child == 0:  # pragma: no cover - the child replaces itself at once
            try:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                os.execve(argv[0], list(argv), env)  # noqa: S606 - no shell, on purpose
            finally:
                os._exit(127)
        for signum in pending:  # a signal that came before the fork returned
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)
        code = 1
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if pid == child:
                code = exit_code(status)
                break
        _reap_remaining()
        return code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _reap_remaining() -> None:
    """Reap whatever has already ended, without waiting for the rest."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run_supervised(args: Sequence[str]) -> int:
    """Re-run this command (``python -m podkit.git_sync args...``) under :func:`supervise`."""
    return supervise([sys.executable, "-m", "podkit.git_sync", *args])
