"""The C scanners as a build product: the extension must be built (this fails, saying what to
install, when it is not), the implementation is chosen at import (PODKIT_RESP_PURE=1 forces
Python), and feeding it many times leaks neither references nor memory."""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
import tracemalloc

import pytest

from podkit.redis_ambassador import scanner
from podkit.redis_ambassador.scanner import IMPLEMENTATIONS, Implementation, encode_command

PROBE = (
    "from podkit.redis_ambassador import scanner as s;"
    "print(s.IMPLEMENTATION, s.Command.__module__, s.RequestScanner.__module__,"
    " s.ReplyScanner.__module__)"
)


def c_implementation() -> Implementation:
    if "c" not in IMPLEMENTATIONS:
        pytest.fail(str(scanner.EXTENSION_ERROR))
    return IMPLEMENTATIONS["c"]


def test_the_c_extension_is_built() -> None:
    c = c_implementation()
    assert c.RequestScanner.__module__ == "podkit.redis_ambassador._resp"
    assert scanner.EXTENSION_ERROR is None
    forced = os.environ.get("PODKIT_RESP_PURE", "") not in ("", "0")
    active = scanner.IMPLEMENTATION
    assert active == ("python" if forced else "c")


@pytest.mark.parametrize(
    ("pure", "expected"),
    [
        (None, "c podkit.redis_ambassador._resp"),
        ("0", "c podkit.redis_ambassador._resp"),
        ("1", "python podkit.redis_ambassador.scanner"),
    ],
)
def test_the_implementation_is_chosen_at_import(pure: str | None, expected: str) -> None:
    c_implementation()
    env = {k: v for k, v in os.environ.items() if k != "PODKIT_RESP_PURE"}
    if pure is not None:
        env["PODKIT_RESP_PURE"] = pure
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    name, module = expected.split()
    assert out == [name, module, module, module]


def test_the_module_names_are_the_active_implementation() -> None:
    active = IMPLEMENTATIONS[scanner.IMPLEMENTATION]
    assert scanner.Command is active.Command
    assert scanner.RequestScanner is active.RequestScanner
    assert scanner.ReplyScanner is active.ReplyScanner


def exercise(c: Implementation, data: bytes, replies: bytes) -> None:
    requests = c.RequestScanner(max_bulk=1000)
    for i in range(0, len(data), 7):
        requests.feed(data[i : i + 7])
    requests.feed(data)
    requests.feed(b"*1\r\n$x\r\n")  # an error: the scanner keeps it
    requests.feed(data)  # ignored after the error
    inline = c.RequestScanner(max_inline=10)
    inline.feed(b"GET 'a\r\n")  # a ProtocolError raised in Python, taken by C
    reply_scanner = c.ReplyScanner()
    for i in range(0, len(replies), 5):
        reply_scanner.feed(replies[i : i + 5])
    with contextlib.suppress(scanner.ProtocolError):
        reply_scanner.feed(b"?\r\n")
    cmd = c.Command([b"GET", b"k"], 0, 10)
    repr(cmd)


def test_no_reference_or_memory_leaks() -> None:
    c = c_implementation()
    value = b"v" * 300
    data = (
        encode_command([b"SET", b"key", value])
        + b"PING\r\n"
        + encode_command([b"GET", b"key"]) * 3
        + encode_command([b"set", b"k" * 40, b"x"])
        + b'SET "a b" c\r\n'
        + b"*2\r\n$3\r\nGET\r\n$5\r\nab"
    )
    replies = (
        b"+OK\r\n$300\r\n" + value + b"\r\n*2\r\n%1\r\n+a\r\n|1\r\n+x\r\n+y\r\n:1\r\n>1\r\n+p\r\n"
    )
    for _ in range(200):  # warm up caches and free lists
        exercise(c, data, replies)
    gc.collect()
    before = (sys.getrefcount(data), sys.getrefcount(value), sys.getrefcount(replies))
    tracemalloc.start()
    try:
        for _ in range(100):
            exercise(c, data, replies)
        gc.collect()
        first, _ = tracemalloc.get_traced_memory()
        for _ in range(3000):
            exercise(c, data, replies)
        gc.collect()
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (sys.getrefcount(data), sys.getrefcount(value), sys.getrefcount(replies)) == before
    # 3000 rounds create ~100k objects; a leak of even one small object per round shows here
    assert second - first < 64 * 1024, f"traced memory grew by {second - first} bytes"
