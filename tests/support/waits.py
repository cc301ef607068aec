"""Polling in tests: wait until a condition holds, and fail with what was awaited when it never does.

One helper for plain code (:func:`wait_until`) and one for coroutines (:func:`async_wait_until`,
which takes a plain or an async condition and lets the event loop run between polls). Both
return the condition's first truthy value.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
STEP = 0.05


def wait_until(condition: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    """Poll ``condition`` until it returns something truthy (returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(STEP)


async def async_wait_until(
    condition: Callable[[], T | Awaitable[T]], timeout: float = 30.0, what: str = "condition"
) -> T:
    """Like :func:`wait_until`, awaiting between polls (and awaiting an async ``condition``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(STEP)
