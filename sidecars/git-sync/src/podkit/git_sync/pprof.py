"""``--http-pprof``: what a Python service can honestly offer at git-sync's ``/debug/pprof/``.

Go's endpoints serve its runtime's profiles in Go's formats; Python has neither, so these serve
the nearest equivalents as plain text, under the same paths where one exists:

* ``/debug/pprof/`` lists the endpoints;
* ``/debug/pprof/goroutine`` dumps the stack of every thread and of every asyncio task (what
  ``goroutine?debug=2`` is for: where is it stuck?);
* ``/debug/pprof/profile?seconds=N`` (default 30, at most 300) samples every thread's stack 100
  times a second for N seconds, from a thread of its own, and answers in the "folded" format
  (``frame;frame;frame count`` per line) that flamegraph.pl, speedscope and inferno read;
* ``/debug/pprof/cmdline`` is the command line, NUL-separated as Go's, with secrets redacted.

The sampling runs off the event loop, so the loop is profiled as it runs and keeps serving.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from podkit.core import AdminServer

PREFIX = "/debug/pprof"
MAX_SECONDS = 300.0
INTERVAL = 0.01

_INDEX = f"""podkit-git-sync profiling (a Python process: these are Python's equivalents of Go's)

{PREFIX}/goroutine          stacks of every thread and every asyncio task
{PREFIX}/profile?seconds=N  sampled stacks of every thread for N seconds (default 30), folded
{PREFIX}/cmdline            the command line, NUL-separated, secrets redacted
"""


def stack_dump() -> str:
    """Every thread's stack, then every asyncio task's (of the running loop), as text."""
    out = io.StringIO()
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        out.write(f"thread {names.get(ident, '?')} ({ident}):\n")
        out.write("".join(traceback.format_stack(frame)))
        out.write("\n")
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:
        tasks = set()
    for task in sorted(tasks, key=lambda t: t.get_name()):
        out.write(f"task {task.get_name()} ({task.get_coro()!r}):\n")
        buffer = io.StringIO()
        task.print_stack(file=buffer)
        out.write(buffer.getvalue())
        out.write("\n")
    return out.getvalue()


def _folded(frame: FrameType | None) -> str:
    parts: list[str] = []
    while frame is not None:
        code = frame.f_code
        parts.append(f"{code.co_name} ({code.co_filename}:{frame.f_lineno})")
        frame = frame.f_back
    return ";".join(reversed(parts))


def sample_stacks(
    seconds: float, stop: threading.Event | None = None, interval: float = INTERVAL
) -> dict[str, int]:
    """Sample every other thread's stack each ``interval`` for ``seconds`` (or until ``stop``
    is set): folded stack -> number of samples."""
    counts: collections.Counter[str] = collections.Counter()
    me = threading.get_ident()
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    stop = stop or threading.Event()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stop.is_set():
        for ident, frame in sys._current_frames().items():
            if ident != me:
                counts[f"{names.get(ident, ident)};{_folded(frame)}"] += 1
        stop.wait(interval)
    return dict(counts)


async def profile(seconds: float) -> dict[str, int]:
    """:func:`sample_stacks` in a daemon thread of its own: cancelling this (shutdown, the
    client leaving) stops the sampling at once, and an exit never waits for it."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[dict[str, int]] = loop.create_future()
    stop = threading.Event()

    def finish(result: dict[str, int]) -> None:
        if not done.done():
            done.set_result(result)

    def run() -> None:
        result = sample_stacks(seconds, stop)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(finish, result)

    threading.Thread(target=run, name="pprof-sampler", daemon=True).start()
    try:
        return await done
    finally:
        stop.set()


def install(admin: AdminServer, cmdline: Callable[[], list[str]]) -> None:
    """Serve the endpoints on ``admin`` (before it starts); ``cmdline`` gives the redacted argv."""
    from aiohttp import web

    async def index(request: web.Request) -> web.StreamResponse:
        return web.Response(text=_INDEX)

    async def goroutine(request: web.Request) -> web.StreamResponse:
        return web.Response(text=stack_dump())

    async def sampled(request: web.Request) -> web.StreamResponse:
        try:
            seconds = float(request.query.get("seconds", "30"))
        except ValueError:
            return web.Response(status=400, text="seconds must be a number\n")
        if not 0 < seconds <= MAX_SECONDS:
            return web.Response(status=400, text=f"seconds must be in (0, {MAX_SECONDS:g}]\n")
        counts = await profile(seconds)
        lines = sorted(f"{stack} {count}" for stack, count in counts.items())
        return web.Response(text="\n".join(lines) + "\n")

    async def command_line(request: web.Request) -> web.StreamResponse:
        return web.Response(text="\0".join(cmdline()))

    admin.add_route("GET", f"{PREFIX}/", index)
    admin.add_route("GET", f"{PREFIX}/goroutine", goroutine)
    admin.add_route("GET", f"{PREFIX}/profile", sampled)
    admin.add_route("GET", f"{PREFIX}/cmdline", command_line)
