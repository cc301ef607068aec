"""The C scanners as a build product: the extension must be built (this fails, saying what to
install, when it is not), the implementation is chosen by the ``resp_scanner`` setting (never at
import), and feeding it many times leaks neither references nor memory."""

from __future__ import annotations

import contextlib
import gc
import sys
import tracemalloc

import pytest

from podkit.core import HostPort, SettingsError
from podkit.redis_ambassador import resp
from podkit.redis_ambassador.resp import ProtocolError, Scanners, encode_command
from podkit.redis_ambassador.service import RedisAmbassador
from podkit.redis_ambassador.settings import RedisAmbassadorSettings


def c_implementation() -> Scanners:
    if "c" not in resp.available():
        pytest.fail(str(resp.EXTENSION_ERROR))
    return resp.available()["c"]


def test_the_c_extension_is_built() -> None:
    c = c_implementation()
    assert c.RequestScanner.__module__ == "podkit.redis_ambassador.resp._resp"
    assert resp.EXTENSION_ERROR is None
    assert Scanners.load("auto") is c
    assert Scanners.load("c") is c
    assert (
        Scanners.load("python").RequestScanner.__module__ == "podkit.redis_ambassador.resp.python"
    )


@pytest.mark.parametrize(
    ("choice", "module"),
    [
        ("auto", "podkit.redis_ambassador.resp._resp"),
        ("c", "podkit.redis_ambassador.resp._resp"),
        ("python", "podkit.redis_ambassador.resp.python"),
    ],
)
def test_the_implementation_is_a_setting(choice: str, module: str) -> None:
    c_implementation()
    settings = RedisAmbassadorSettings.load(
        ["--master=127.0.0.1:6379", f"--resp-scanner={choice}", "--admin-listen="], {}
    )
    ambassador = RedisAmbassador(settings)
    assert ambassador.config.scanners.RequestScanner.__module__ == module
    assert ambassador.config.scanners.ReplyScanner.__module__ == module


def test_a_missing_implementation_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resp, "_C", None)
    with pytest.raises(SettingsError, match="resp-scanner"):
        RedisAmbassadorSettings(master=HostPort("127.0.0.1", 6379), resp_scanner="c")
    assert Scanners.load("auto").name == "python"


def exercise(c: Scanners, data: bytes, replies: bytes) -> None:
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
    with contextlib.suppress(ProtocolError):
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
