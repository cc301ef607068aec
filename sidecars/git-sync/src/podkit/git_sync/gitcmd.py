"""Running git (and hook commands) as subprocesses from asyncio: never through a shell.

:class:`Git` runs ``<git> <args...>`` with a fixed environment (a private global config, no
prompts, no system config) in a working directory, optionally with stdin, under a timeout. A
process that outlives its timeout, or whose caller is cancelled (shutdown, the sync deadline), is
killed with its whole process group, so git's own children (ssh, remote helpers) die with it.
Every child also gets ``PR_SET_PDEATHSIG`` (SIGKILL): if git-sync itself is killed (``kill -9``,
the OOM killer), the kernel kills its git children instead of leaving them running; their own
children then see their pipes close. The signal fires when the *thread* that started the child
ends, so children are only ever started from the event loop's thread, which lives as long as the
service. :func:`scrubbed_environ` builds a child's environment without the secret settings' env
vars. Failures raise :class:`GitError`, which carries the argv, the exit code and git's stderr
for logs and the error file; secrets never appear in argv (credentials go through a helper), and
the text is redacted anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from podkit.core import get_logger, redact
from podkit.git_sync.prctl import PR_SET_PDEATHSIG
from podkit.git_sync.prctl import prctl as load_prctl

log = get_logger("podkit.git_sync.git")

_MAX_OUTPUT = 4 * 1024 * 1024


def _die_with_parent(parent: int, prctl: Callable[..., int]) -> Callable[[], None]:
    def preexec() -> None:  # runs in the child between fork and exec
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl: nobody will signal us
            os._exit(1)

    return preexec


def child_preexec() -> Callable[[], None] | None:
    """What a child runs before exec so that it dies with this process (None: not on Linux)."""
    prctl = load_prctl()
    return _die_with_parent(os.getpid(), prctl) if prctl is not None else None


def scrubbed_environ(names: Iterable[str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without the variables in ``names``.

    Secrets given by env (``GITSYNC_PASSWORD``, ...) are read once by the settings; no child
    (git, its helpers, hooks) gets them in its environment.
    """
    drop = set(names)
    source = os.environ if base is None else base
    return {key: value for key, value in source.items() if key not in drop}


_BOILERPLATE = frozenset(
    {
        "Please make sure you have the correct access rights",
        "and the repository exists.",
    }
)


class CommandError(Exception):
    """A command failed: its argv, exit code (None when it was killed) and stderr."""

    def __init__(
        self, argv: Sequence[str], code: int | None, stderr: str, reason: str = ""
    ) -> None:
        self.argv = [redact(part) for part in argv]
        self.code = code
        self.stderr = redact(stderr.strip())
        self.reason = reason or (f"exit code {code}" if code is not None else "killed")
        detail = f": {self.stderr_summary}" if self.stderr else ""
        super().__init__(f"{' '.join(self.argv)} failed ({self.reason}){detail}")

    @property
    def stderr_summary(self) -> str:
        """The last meaningful lines of stderr, on one line (git puts the cause last)."""
        lines = [
            line.strip()
            for line in self.stderr.splitlines()
            if line.strip() and line.strip() not in _BOILERPLATE
        ]
        return " | ".join(lines[-3:])


class GitError(CommandError):
    """A git command failed."""


@dataclass(frozen=True)
class Result:
    stdout: str
    stderr: str


async def run_command(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float | None = None,
    error: type[CommandError] = CommandError,
) -> Result:
    """Run ``argv`` and return its output; raise ``error`` on a non-zero exit or a timeout."""
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(cwd) if cwd is not None else None,
            env=dict(env) if env is not None else None,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            preexec_fn=child_preexec(),
        )
    except OSError as exc:
        raise error(argv, None, "", f"cannot run: {exc.strerror or exc}") from None
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    except TimeoutError:
        await _kill(proc)
        raise error(argv, None, "", f"timed out after {timeout:g}s") from None
    finally:
        if proc.returncode is None:  # cancelled: take the process group down with us
            await _kill(proc)
    stdout = out[-_MAX_OUTPUT:].decode(errors="replace")
    stderr = err[-_MAX_OUTPUT:].decode(errors="replace")
    if log.is_enabled_for(5):
        log.log(
            5,
            "ran command",
            argv=list(argv),
            cwd=str(cwd),
            seconds=round(time.monotonic() - started, 3),
            code=proc.returncode,
        )
    if proc.returncode != 0:
        raise error(argv, proc.returncode, stderr)
    return Result(stdout, stderr)


async def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(Exception):
        await asyncio.shield(proc.wait())


class Git:
    """A git executable and the environment every call to it gets."""

    def __init__(self, command: str, env: Mapping[str, str]) -> None:
        self.command = command
        self.env = dict(env)

    async def run(
        self,
        *args: str,
        cwd: str | Path,
        stdin: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """Run ``git args...`` in ``cwd``; return stdout."""
        result = await run_command(
            [self.command, *args],
            cwd=cwd,
            env=self.env,
            stdin=stdin,
            timeout=timeout,
            error=GitError,
        )
        return result.stdout

    async def ok(self, *args: str, cwd: str | Path, timeout: float | None = None) -> bool:
        """Whether ``git args...`` succeeds."""
        try:
            await self.run(*args, cwd=cwd, timeout=timeout)
        except GitError:
            return False
        return True
