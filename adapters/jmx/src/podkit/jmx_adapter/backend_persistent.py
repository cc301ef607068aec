"""The persistent backend: a long-lived helper JVM keeping one JMX connection across scrapes.

The helper is ``java/PodkitJmxHelper.java``, shipped as source in this package and compiled with
``javac`` at first use into a cache directory (``$XDG_CACHE_HOME/podkit-jmx-adapter/<hash>``, or
``--helper-cache-dir``); the hash of the source names the directory, so an upgrade recompiles and
no jar is ever committed. It reads the target and credentials from its environment (never its
command line, where ``ps`` would show them) and speaks JSON lines over stdin/stdout: one request
per scrape, one reply with every MBean, attribute and value. It reopens the JMX connection when
the target restarts. A scrape that is cut off (timeout, cancellation) kills the helper, since its
reply stream can no longer be trusted; the next scrape starts a fresh one.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from podkit.jmx_adapter.backend import (
    Attribute,
    BackendError,
    Composite,
    JavaNumber,
    MBean,
    ScrapeFilter,
    Tabular,
    Value,
)
from podkit.jmx_adapter.objectname import parse_object_name

__all__ = ["PersistentBackend", "compile_helper", "decode_value"]

HELPER_CLASS = "PodkitJmxHelper"
_JVM_OPTIONS = ("-XX:+UseSerialGC", "-Xmx64m", "-Xss512k", "-XX:TieredStopAtLevel=1")


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "podkit-jmx-adapter"


def _javac_for(java: str) -> str:
    found = shutil.which(java)
    if found is not None:
        sibling = Path(os.path.realpath(found)).with_name("javac")
        if sibling.exists():
            return str(sibling)
    javac = shutil.which("javac")
    if javac is None:
        raise BackendError(
            "the persistent backend needs javac (a JDK, e.g. apt-get install openjdk-17-jdk-headless)"
        )
    return javac


def compile_helper(cache_dir: Path | None = None, java: str = "java") -> Path:
    """Compile the helper if needed; returns the class directory to put on the classpath."""
    source = resources.files("podkit.jmx_adapter").joinpath("java", f"{HELPER_CLASS}.java")
    text = source.read_bytes()
    digest = hashlib.sha256(text).hexdigest()[:16]
    target = (cache_dir or _default_cache_dir()) / digest
    if (target / f"{HELPER_CLASS}.class").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        src = work / f"{HELPER_CLASS}.java"
        src.write_bytes(text)
        out = work / "classes"
        result = subprocess.run(
            [_javac_for(java), "-nowarn", "-d", str(out), str(src)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackendError(f"cannot compile the JMX helper: {result.stderr.strip()[:400]}")
        with contextlib.suppress(OSError):  # another process won the race: use its copy
            out.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def decode_value(raw: Any) -> Value:
    """The helper's JSON encoding of a value back into :mod:`.backend` types."""
    if raw is None or isinstance(raw, bool | str):
        return raw
    if isinstance(raw, dict):
        if "n" in raw:
            text = str(raw["n"])
            return JavaNumber(float(text), text)
        if "c" in raw:
            return Composite(
                tuple((str(k), decode_value(v)) for k, v in raw["c"]), str(raw.get("d") or "")
            )
        if "t" in raw:
            table = raw["t"]
            rows = tuple(decode_value(row) for row in table["rows"])
            return Tabular(
                tuple(table["index"]),
                tuple(row for row in rows if isinstance(row, Composite)),
                str(table.get("d") or ""),
            )
    return None


class PersistentBackend:
    """Scrapes through one helper JVM that stays up between scrapes."""

    name = "persistent"

    def __init__(
        self,
        jmx_url: str,
        *,
        username: str = "",
        password: str = "",
        ssl: bool = False,
        java: str = "java",
        java_options: tuple[str, ...] = (),
        cache_dir: Path | None = None,
    ) -> None:
        if not jmx_url:
            raise BackendError("no JMX target: set hostPort or jmxUrl in the config")
        self.jmx_url = jmx_url
        self.username = username
        self.password = password
        self.ssl = ssl
        self.java = java
        self.java_options = tuple(java_options)
        self.cache_dir = cache_dir
        self._proc: asyncio.subprocess.Process | None = None
        self._classes: Path | None = None
        self._lock = asyncio.Lock()
        self._next_id = 0
        self.helper_starts = 0
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=5)
        self._stderr_task: asyncio.Future[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    async def _ensure(self) -> asyncio.subprocess.Process:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            return proc
        if self._classes is None:
            self._classes = await asyncio.to_thread(compile_helper, self.cache_dir, self.java)
        env = dict(os.environ)
        env.update(
            PODKIT_JMX_URL=self.jmx_url,
            PODKIT_JMX_USERNAME=self.username,
            PODKIT_JMX_PASSWORD=self.password,
            PODKIT_JMX_SSL="true" if self.ssl else "false",
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                self.java,
                *_JVM_OPTIONS,
                *self.java_options,
                "-cp",
                str(self._classes),
                HELPER_CLASS,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                limit=256 * 1024 * 1024,
            )
        except OSError as exc:
            raise BackendError(f"cannot start {self.java}: {exc.strerror}") from None
        self._proc = proc
        self.helper_starts += 1
        self._stderr_tail.clear()
        assert proc.stderr is not None
        self._stderr_task = asyncio.ensure_future(self._drain_stderr(proc.stderr))
        return proc

    async def _drain_stderr(self, stream: asyncio.StreamReader) -> None:
        """Keep the helper's last stderr lines (JVM errors) for the error message; never block it."""
        while line := await stream.readline():
            self._stderr_tail.append(line.decode(errors="replace").strip())

    def _last_words(self) -> str:
        lines = [line for line in self._stderr_tail if line]
        return f": {' / '.join(lines)[-400:]}" if lines else ""

    async def scrape(self, beans: ScrapeFilter) -> list[MBean]:
        async with self._lock:
            proc = await self._ensure()
            assert proc.stdin is not None
            assert proc.stdout is not None
            self._next_id += 1
            request = {
                "id": self._next_id,
                "include": list(beans.include),
                "exclude": list(beans.exclude),
            }
            try:
                proc.stdin.write(json.dumps(request).encode() + b"\n")
                await proc.stdin.drain()
                line = await proc.stdout.readline()
            except (OSError, ValueError) as exc:  # a broken pipe, an over-long line
                await self._kill()
                raise BackendError(f"the JMX helper failed: {exc}{self._last_words()}") from None
            except BaseException:
                await self._kill()  # cut off mid-reply: the stream is out of step now
                raise
            if not line:
                await self._kill()
                raise BackendError(f"the JMX helper exited unexpectedly{self._last_words()}")
            try:
                reply = json.loads(line)
            except ValueError:
                reply = None
            if not isinstance(reply, dict) or reply.get("id") != self._next_id:
                await self._kill()
                raise BackendError("the JMX helper sent an unexpected reply")
            if not reply.get("ok"):
                raise BackendError(str(reply.get("error") or "scrape failed"))
            return [_bean(item) for item in reply["beans"]]

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await proc.wait()
        task, self._stderr_task = self._stderr_task, None
        if task is not None:
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(task, 1.0)  # the pipe closes with the process

    async def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None and proc.stdin is not None:
            proc.stdin.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 2.0)
        await self._kill()


def _bean(item: dict[str, Any]) -> MBean:
    name = str(item["name"])
    domain, props = parse_object_name(name)
    attrs = [
        Attribute(str(a[0]), decode_value(a[2]), None if a[1] is None else str(a[1]))
        for a in item["attrs"]
    ]
    return MBean(name, domain, props, attrs)
