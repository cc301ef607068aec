"""Running a service as a process: event loop, signals, draining and exit codes.

:func:`run` installs uvloop when it is importable, starts the service, and waits for a signal or for the service to end on its own. SIGTERM and SIGINT
stop new work and drain in-flight work within ``shutdown_grace`` (a second signal abandons the
drain); SIGHUP calls the service's reload. Exit codes: 0 after a signal or a clean finish, the
service's own code from :meth:`Service.finish`, 1 (with one log line) when it fails or crashes.
:func:`main` adds the command line in front: settings errors exit 2 with one line on stderr, and it
alone configures logging (podkit's JSON/text lines on stderr, redacted with the service's redactor),
so an app that embeds a service or calls :func:`run` keeps its own logging configuration.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from podkit.core.logs import configure_logging, one_line
from podkit.core.service import Service
from podkit.core.settings import SettingsError


def _loop_factory() -> tuple[Callable[[], asyncio.AbstractEventLoop] | None, str]:
    try:
        import uvloop
    except ImportError:
        return None, "asyncio"
    return uvloop.new_event_loop, "uvloop"


def run(service: Service[Any]) -> int:
    """Run ``service`` until a signal or its own end; returns the process exit code."""
    for notice in service.settings.notices:
        service.log.warning(notice)
    factory, loop_name = _loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(_serve(service, loop_name))


async def _serve(service: Service[Any], loop_name: str) -> int:
    log = service.log.child("lifecycle")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[str] = []
    reloads: set[asyncio.Task[None]] = set()

    def on_stop_signal(signum: signal.Signals) -> None:
        received.append(signum.name)
        stop.set()

    def on_reload_signal() -> None:
        log.info("received SIGHUP; reloading")
        task = loop.create_task(service.reload())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_stop_signal, signum)
    loop.add_signal_handler(signal.SIGHUP, on_reload_signal)
    try:
        try:
            await service.start()
        except Exception as exc:
            log.error(f"{service.name} failed to start: {one_line(exc)}", error=type(exc).__name__)
            return 1
        log.info(
            f"{service.name} {service.version} started",
            admin=service.admin.url,
            event_loop=loop_name,
        )
        ended = asyncio.ensure_future(service.wait())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({ended, stopped}, return_when=asyncio.FIRST_COMPLETED)
        code = 0
        if ended.done():
            stopped.cancel()
            error = ended.exception()
            if error is not None:
                log.error(f"{service.name} failed: {one_line(error)}", error=type(error).__name__)
                code = 1
            else:
                code = ended.result()
        else:
            ended.cancel()
            log.info(
                f"received {received[0]}; draining in-flight work",
                in_flight=service.in_flight,
                grace_seconds=service.settings.shutdown_grace,
            )
        code = await _shutdown(service, stop, received, code)
        log.info(f"{service.name} stopped", exit_code=code)
        return code
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)


async def _shutdown(
    service: Service[Any], stop: asyncio.Event, received: list[str], code: int
) -> int:
    """Drain; a second stop signal abandons the drain and makes the exit code 1."""
    log = service.log.child("lifecycle")
    stop.clear()
    seen = len(received)
    draining = asyncio.ensure_future(service.shutdown())
    again = asyncio.ensure_future(stop.wait())
    await asyncio.wait({draining, again}, return_when=asyncio.FIRST_COMPLETED)
    if draining.done():
        again.cancel()
        error = draining.exception()
        if error is not None:
            log.error(f"{service.name} failed while stopping: {one_line(error)}")
            return 1
        return code
    log.warning(
        f"received {received[seen] if len(received) > seen else 'signal'} again; stopping now"
    )
    draining.cancel()
    await asyncio.gather(draining, return_exceptions=True)
    return 1


def main(
    service_class: type[Service[Any]],
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Load settings from the command line and environment, then :func:`run`; returns the code.

    :meth:`Service.preflight` may end the run before the service is built (a ``--check-config``).
    An error while building the service is printed as one line and exits 1.

    Use as ``sys.exit(main(MyService))``.
    """
    try:
        settings = service_class.settings_class.load(
            argv,
            environ,
            prog=service_class.name,
            version=f"{service_class.name} {service_class.version}",
            description=service_class.description,
        )
        early = service_class.preflight(settings)
        if early is not None:
            return early
        service = service_class(settings)
        configure_logging(service.log_level(), settings.log_format, redactor=service.redactor)
    except SettingsError as exc:
        print(f"{service_class.name}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a component that cannot even be built: one line, exit 1
        print(f"{service_class.name}: {one_line(exc)}", file=sys.stderr)
        return 1
    return run(service)
