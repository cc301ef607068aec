"""Property tests: the hiredis fast path and the Python scanner agree; replies split exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from podkit.redis_ambassador.scanner import ReplyScanner, RequestScanner, encode_command

ARG = st.binary(min_size=0, max_size=40) | st.sampled_from([b"GET", b"set", b"\r\n", b"*1", b"$"])
COMMAND = st.lists(ARG, min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(COMMAND, min_size=1, max_size=12), st.integers(min_value=1, max_value=50))
def test_fast_path_and_python_scanner_agree(commands: list[list[bytes]], piece: int) -> None:
    data = b"".join(encode_command(args) for args in commands)
    whole_src, whole = RequestScanner().feed(data)  # one buffer: hiredis
    scanner = RequestScanner()
    pieces: list[list[bytes]] = []
    raws: list[bytes] = []
    for start in range(0, len(data), piece):  # partial frames: the Python scanner
        src, found = scanner.feed(data[start : start + piece])
        pieces.extend(cmd.args for cmd in found)
        raws.extend(src[cmd.start : cmd.end] for cmd in found)
    assert [cmd.args for cmd in whole] == commands == pieces
    assert [whole_src[cmd.start : cmd.end] for cmd in whole] == raws
    assert b"".join(raws) == data


def resp_value(depth: int = 0) -> st.SearchStrategy[bytes]:
    scalar = st.one_of(
        st.binary(max_size=20).map(lambda b: b"$%d\r\n%s\r\n" % (len(b), b)),
        st.integers().map(lambda i: b":%d\r\n" % i),
        st.just(b"+OK\r\n"),
        st.just(b"-ERR x\r\n"),
        st.just(b"_\r\n"),
        st.just(b"$-1\r\n"),
        st.just(b"#f\r\n"),
        st.just(b",1.5\r\n"),
        st.binary(max_size=10).map(lambda b: b"=%d\r\ntxt:%s\r\n" % (len(b) + 4, b)),
    )
    if depth >= 3:
        return scalar
    inner = st.deferred(lambda: resp_value(depth + 1))
    aggregate = st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: b"*%d\r\n" % len(xs) + b"".join(xs)),
        st.lists(inner, max_size=4).map(lambda xs: b"~%d\r\n" % len(xs) + b"".join(xs)),
        st.lists(st.tuples(inner, inner), max_size=3).map(
            lambda kv: b"%%%d\r\n" % len(kv) + b"".join(k + v for k, v in kv)
        ),
        st.tuples(inner, inner).map(lambda av: b"|1\r\n+a\r\n" + av[0] + av[1]),
    )
    return st.one_of(scalar, aggregate)


@settings(max_examples=200, deadline=None)
@given(st.lists(resp_value(), min_size=1, max_size=8), st.integers(min_value=1, max_value=30))
def test_reply_scanner_finds_every_boundary(replies: list[bytes], piece: int) -> None:
    stream = b"".join(replies)
    scanner = ReplyScanner()
    found: list[bytes] = []
    for start in range(0, len(stream), piece):
        src, ends = scanner.feed(stream[start : start + piece])
        prev = 0
        for end in ends:
            found.append(src[prev:end])
            prev = end
    assert found == replies
    assert scanner.buffered == 0
