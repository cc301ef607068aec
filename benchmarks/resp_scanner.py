"""RESP scanner throughput: the C scanners (``_resp``) beside the pure-Python ones, same process.

Run: ``uv run python benchmarks/resp_scanner.py [--rounds R] [--seconds S]``. Builds realistic
buffers — what redis-benchmark sends (``SET key:NNNNNNNNNNNN xxx`` and ``GET key:NNNNNNNNNNNN``
one command per read, as with ``-P 1``, and 16 per read, as with ``-P 16``), a 100-command mixed
pipeline, an inline ``PING``, and what upstreams answer (``+OK`` and 3-byte bulk replies, 1 and 16
per read, a 1 KiB bulk, RESP3 maps of 8 fields) — and feeds each, buffer after buffer, to the
scanner classes of both implementations (``scanner.available()``; the Python request scanner
takes its hiredis fast path for whole buffers, as it does in the ambassador).

Prints, per case, frames (commands or replies) per second for Python and C (best of ``--rounds``
runs of about ``--seconds`` each) and the ratio C/Python. For the request cases, the ``hiredis``
column (multibulk only) is ``hiredis.Reader`` alone parsing the same buffers into lists, building no Command and
computing no offsets: a floor for any scanner built on hiredis. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import hiredis

from podkit.redis_ambassador.resp import Scanners, available, encode_command

KEYS = 1000  # distinct keys, as redis-benchmark -r draws them


def set_command(i: int) -> bytes:
    return encode_command([b"SET", b"key:%012d" % i, b"xxx"])


def get_command(i: int) -> bytes:
    return encode_command([b"GET", b"key:%012d" % i])


def pipelines(make: Callable[[int], bytes], depth: int) -> list[bytes]:
    return [b"".join(make(i * depth + j) for j in range(depth)) for i in range(KEYS // depth)]


def mixed(i: int) -> bytes:
    return set_command(i) if i % 3 == 0 else get_command(i)


REQUESTS: list[tuple[str, list[bytes], int]] = [
    ("SET -P 1", pipelines(set_command, 1), 1),
    ("GET -P 1", pipelines(get_command, 1), 1),
    ("SET -P 16", pipelines(set_command, 16), 16),
    ("GET -P 16", pipelines(get_command, 16), 16),
    ("mixed -P 100", pipelines(mixed, 100), 100),
    ("inline PING", [b"PING\r\n"] * 100, 1),
]

MAP = b"%8\r\n" + b"".join(b"$7\r\nfield:%d\r\n:%d\r\n" % (i, i * 1000) for i in range(8))
REPLIES: list[tuple[str, list[bytes], int]] = [
    ("+OK x1", [b"+OK\r\n"] * 100, 1),
    ("+OK x16", [b"+OK\r\n" * 16] * 100, 16),
    ("$3 bulk x1", [b"$3\r\nxxx\r\n"] * 100, 1),
    ("$3 bulk x16", [b"$3\r\nxxx\r\n" * 16] * 100, 16),
    ("$1024 bulk x1", [b"$1024\r\n" + b"v" * 1024 + b"\r\n"] * 100, 1),
    ("RESP3 map x1", [MAP] * 100, 1),
    ("RESP3 map x16", [MAP * 16] * 100, 16),
]


def rate(run: Callable[[], None], frames: int, rounds: int, seconds: float) -> float:
    """Frames per second of ``run`` (which scans ``frames`` frames): best of ``rounds``."""
    loops = 1
    while True:  # calibrate: how many loops take about `seconds`
        start = time.perf_counter()
        for _ in range(loops):
            run()
        elapsed = time.perf_counter() - start
        if elapsed > seconds / 4:
            break
        loops *= 2
    loops = max(1, int(loops * seconds / elapsed))
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(loops):
            run()
        best = max(best, frames * loops / (time.perf_counter() - start))
    return best


def request_run(impl: Scanners, buffers: list[bytes]) -> Callable[[], None]:
    scanner = impl.RequestScanner()
    feed = scanner.feed

    def run() -> None:
        for data in buffers:
            feed(data)

    return run


def reply_run(impl: Scanners, buffers: list[bytes]) -> Callable[[], None]:
    scanner = impl.ReplyScanner()
    feed = scanner.feed

    def run() -> None:
        for data in buffers:
            feed(data)

    return run


def hiredis_run(buffers: list[bytes]) -> Callable[[], None]:
    reader = hiredis.Reader()

    def run() -> None:
        for data in buffers:
            reader.feed(data)
            while reader.gets() is not False:
                pass

    return run


def check(buffers: list[bytes], depth: int, python: Scanners, c: Scanners) -> None:
    """Both implementations find the same frames in these buffers (a benchmark of wrong code
    measures nothing)."""
    a, b = python.RequestScanner(), c.RequestScanner()
    for data in buffers:
        found_a, found_b = a.feed(data)[1], b.feed(data)[1]
        assert [x.args for x in found_a] == [x.args for x in found_b]
        assert len(found_a) == depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3)
    args = parser.parse_args()
    if "c" not in available():
        sys.exit("the C extension podkit.redis_ambassador._resp is not built: nothing to compare")
    python, c = available()["python"], available()["c"]
    print(f"frames/s, best of {args.rounds} runs of ~{args.seconds}s; ratio = C / Python")
    print(f"{'requests':16}{'python':>12}{'c':>12}{'ratio':>8}{'hiredis':>12}")
    for name, buffers, depth in REQUESTS:
        check(buffers, depth, python, c)
        frames = len(buffers) * depth
        py = rate(request_run(python, buffers), frames, args.rounds, args.seconds)
        cc = rate(request_run(c, buffers), frames, args.rounds, args.seconds)
        hi = "-"  # hiredis does not parse inline commands
        if buffers[0][:1] == b"*":
            hi = f"{rate(hiredis_run(buffers), frames, args.rounds, args.seconds):,.0f}"
        print(f"{name:16}{py:12,.0f}{cc:12,.0f}{cc / py:8.2f}{hi:>12}")
    print(f"{'replies':16}{'python':>12}{'c':>12}{'ratio':>8}")
    for name, buffers, depth in REPLIES:
        assert python.ReplyScanner().feed(buffers[0]) == c.ReplyScanner().feed(buffers[0])
        frames = len(buffers) * depth
        py = rate(reply_run(python, buffers), frames, args.rounds, args.seconds)
        cc = rate(reply_run(c, buffers), frames, args.rounds, args.seconds)
        print(f"{name:16}{py:12,.0f}{cc:12,.0f}{cc / py:8.2f}")


if __name__ == "__main__":
    main()
