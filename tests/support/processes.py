"""Child processes for tests: started with their output captured, always stopped by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO


class Child:
    """A process whose stdout and stderr go to temporary files, readable at any time."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self._out: IO[bytes] = tempfile.TemporaryFile()
        self._err: IO[bytes] = tempfile.TemporaryFile()
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            self.argv,
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
        )

    @classmethod
    def python(cls, script: str | Path, *args: str, env: Mapping[str, str] | None = None) -> Child:
        return cls([sys.executable, str(script), *args], env=env)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self, stream: IO[bytes]) -> str:
        stream.flush()
        stream.seek(0)
        return stream.read().decode(errors="replace")

    @property
    def stdout(self) -> str:
        return self._read(self._out)

    @property
    def stderr(self) -> str:
        return self._read(self._err)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signum)

    def wait(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout=timeout)

    def wait_for_output(self, text: str, timeout: float = 15.0, stream: str = "stderr") -> str:
        """Block until ``text`` shows in the stream; returns all of that stream so far."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.stderr if stream == "stderr" else self.stdout
            if text in seen:
                return seen
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"{text!r} not seen (exit={self.proc.poll()}):\n{self.stdout}\n{self.stderr}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the process: SIGTERM, then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._out.close()
        self._err.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
