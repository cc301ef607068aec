"""The helper JVM: ``java/PodkitJmxHelper.java`` run as one long-lived child process.

The helper is shipped as source in this package (``java/*.java``) and compiled with ``javac`` at
first use into a cache directory (``$XDG_CACHE_HOME/podkit-jmx-adapter/<hash>``, or
``--helper-cache-dir``); the hash of the sources names the directory, so an upgrade recompiles
and no jar is ever committed. It speaks JSON lines over stdin/stdout, one reply per request, in
order, each carrying the request's ``id`` (a scrape's exposition follows its reply line as raw
bytes, ``text_bytes`` long): the persistent backend's scrapes and every backend's
rules (:mod:`.engine`) go through it. :class:`Helper` starts it (and
warms it) before the first scrape, so JVM start-up is never charged to a scrape's timeout. A
request that times out does not kill it: the helper bounds its own work by the same deadline,
and its late reply is read and dropped. Only a helper that stays silent through three requests
in a row (a JMX call hung beyond any deadline) is killed, and started again on the next one.
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

from podkit.jmx_adapter.backend import BackendError

__all__ = ["HELPER_CLASS", "Helper", "HelperTimeout", "compile_helper"]

HELPER_CLASS = "PodkitJmxHelper"
_JVM_OPTIONS = ("-XX:+UseSerialGC", "-Xmx64m", "-Xss512k", "-XX:TieredStopAtLevel=1")
_STALLS_BEFORE_RESTART = 3


class HelperTimeout(BackendError):
    """The helper did not answer within the time given; it keeps running."""


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
            "the JMX helper needs javac (a JDK, e.g. apt-get install openjdk-17-jdk-headless)"
        )
    return javac


def compile_helper(cache_dir: Path | None = None, java: str = "java") -> Path:
    """Compile the helper if needed; returns the class directory to put on the classpath."""
    folder = resources.files("podkit.jmx_adapter").joinpath("java")
    sources = {
        item.name: item.read_bytes()
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".java")
    }
    digest = hashlib.sha256(
        b"".join(n.encode() + b"\0" + t for n, t in sources.items())
    ).hexdigest()[:16]
    target = (cache_dir or _default_cache_dir()) / digest
    if (target / f"{HELPER_CLASS}.class").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        files = []
        for name, text in sources.items():
            (work / name).write_bytes(text)
            files.append(str(work / name))
        out = work / "classes"
        result = subprocess.run(
            [_javac_for(java), "-nowarn", "-d", str(out), *files],
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


def helper_command(
    classes: Path, java: str = "java", java_options: tuple[str, ...] = (), timeout: float = 0
) -> list[str]:
    """The command line of the helper JVM (no secrets: those travel in requests)."""
    options = list(_JVM_OPTIONS)
    if timeout > 0:  # a JMX call hung on a dead peer ends with the scrape timeout, not never
        options.append(f"-Dsun.rmi.transport.tcp.responseTimeout={int(timeout * 1000)}")
    return [java, *options, *java_options, "-cp", str(classes), HELPER_CLASS]


class Helper:
    """One helper JVM shared by the persistent backend and the rule matcher."""

    def __init__(
        self,
        *,
        java: str = "java",
        java_options: tuple[str, ...] = (),
        cache_dir: Path | None = None,
        call_timeout: float = 0,
    ) -> None:
        self.java = java
        self.java_options = tuple(java_options)
        self.cache_dir = cache_dir
        self.call_timeout = call_timeout
        self.starts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._classes: Path | None = None
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=5)
        self._start_lock = asyncio.Lock()
        self._stalls = 0
        self._replay: list[dict[str, Any]] = []
        self._restart: asyncio.Future[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    def replay_on_start(self, request: dict[str, Any]) -> None:
        """Send ``request`` first thing to every helper started from now on (the rule set)."""
        op = request.get("op")
        self._replay = [r for r in self._replay if r.get("op") != op] + [request]

    async def start(self) -> None:
        """Compile if needed, start the JVM and wait until it answers (not a scrape's timeout)."""
        if self._restart is not None:
            await self._restart  # a stalled helper being killed: start the next one after it
            self._restart = None
        async with self._start_lock:
            if self.pid is not None:
                return
            if self._classes is None:
                self._classes = await asyncio.to_thread(compile_helper, self.cache_dir, self.java)
            try:
                proc = await asyncio.create_subprocess_exec(
                    *helper_command(self._classes, self.java, self.java_options, self.call_timeout),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    limit=256 * 1024 * 1024,
                )
            except OSError as exc:
                raise BackendError(f"cannot start {self.java}: {exc.strerror}") from None
            self._proc = proc
            self.starts += 1
            self._stalls = 0
            self._stderr_tail.clear()
            assert proc.stdout is not None
            assert proc.stderr is not None
            self._reader = asyncio.ensure_future(self._read(proc, proc.stdout))
            self._stderr_task = asyncio.ensure_future(self._drain_stderr(proc.stderr))
        await self.request({"op": "ping"}, None)
        for request in self._replay:
            reply = await self.request(dict(request), None)
            if not reply.get("ok"):
                raise BackendError(str(reply.get("error")))

    async def request(self, payload: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        """Send one request and wait for its reply (``timeout`` None: as long as it takes)."""
        if self.pid is None:
            await self.start()
        proc = self._proc
        assert proc is not None
        assert proc.stdin is not None
        self._next_id += 1
        ident = self._next_id
        payload["id"] = ident
        if timeout is not None:  # the helper stops a little earlier, so its reason gets here
            payload["timeout_ms"] = max(1, int((timeout - min(0.1, timeout / 10)) * 1000))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        try:
            proc.stdin.write(json.dumps(payload, separators=(",", ":")).encode() + b"\n")
            await proc.stdin.drain()
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise HelperTimeout(f"no answer within {timeout:g}s") from None
        except (OSError, ValueError) as exc:  # a broken pipe
            await self.kill()
            raise BackendError(f"the JMX helper failed: {exc}{self._last_words()}") from None
        finally:
            self._pending.pop(ident, None)
            if future.done():
                self._stalls = 0
                if not future.cancelled():
                    future.exception()  # retrieved: the error raised here already says it
            else:  # given up on (timeout, cancellation): its late reply will be dropped
                future.cancel()
                self._stalls += 1
                if self._stalls >= _STALLS_BEFORE_RESTART:
                    self._stalls = 0
                    self._restart = asyncio.ensure_future(self.kill())

    async def _read(self, proc: asyncio.subprocess.Process, stream: asyncio.StreamReader) -> None:
        error: BackendError | None = None
        try:
            while line := await stream.readline():
                try:
                    reply = json.loads(line)
                except ValueError:
                    error = BackendError("the JMX helper sent an unreadable reply")
                    break
                size = reply.get("text_bytes") if isinstance(reply, dict) else None
                if isinstance(size, int):  # the exposition follows the line, raw
                    reply["text"] = (await stream.readexactly(size)).decode()
                ident = reply.get("id") if isinstance(reply, dict) else None
                future = self._pending.get(ident) if isinstance(ident, int) else None
                if future is not None and not future.done():
                    future.set_result(reply)
                # else: the late reply of a request that timed out; dropped
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:  # an over-long line
            error = BackendError(f"the JMX helper failed: {exc}")
        if error is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 2.0)
            error = BackendError(f"the JMX helper exited unexpectedly{self._last_words()}")
        if self._proc is proc:
            self._proc = None
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    async def _drain_stderr(self, stream: asyncio.StreamReader) -> None:
        """Keep the helper's last stderr lines (JVM errors) for the error message; never block it."""
        while line := await stream.readline():
            self._stderr_tail.append(line.decode(errors="replace").strip())

    def _last_words(self) -> str:
        lines = [line for line in self._stderr_tail if line]
        return f": {' / '.join(lines)[-400:]}" if lines else ""

    async def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await proc.wait()
        for task in (self._reader, self._stderr_task):
            if task is not None:
                with contextlib.suppress(asyncio.TimeoutError, Exception):
                    await asyncio.wait_for(task, 1.0)  # the pipes close with the process
        self._reader = self._stderr_task = None

    async def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None and proc.stdin is not None:
            proc.stdin.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 2.0)
        await self.kill()


def run_once(
    requests: list[dict[str, Any]],
    *,
    java: str = "java",
    java_options: tuple[str, ...] = (),
    cache_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """Run a helper for a few requests, synchronously (``--check-config``), and return the replies."""
    classes = compile_helper(cache_dir, java)
    lines = "".join(
        json.dumps({**request, "id": i + 1}) + "\n" for i, request in enumerate(requests)
    )
    try:
        result = subprocess.run(
            helper_command(classes, java, java_options),
            input=lines,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendError(f"cannot run the JMX helper: {exc}") from None
    replies = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    if len(replies) != len(requests):
        raise BackendError(f"the JMX helper failed: {result.stderr.strip()[-400:]}")
    return replies
