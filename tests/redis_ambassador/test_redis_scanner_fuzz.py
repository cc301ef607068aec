"""Property tests, each run against both scanner implementations (C and pure Python), and a
differential test that feeds the same random byte streams, split at random points, to both and
asserts identical results: commands (args, name, start, end), errors, returned bytes, buffered
bytes, reply ends and push counts."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podkit.redis_ambassador import resp
from podkit.redis_ambassador.resp import (
    ProtocolError,
    Scanners,
    encode_command,
)
from podkit.redis_ambassador.resp import python as pyscan

BOTH = ["python", "c"]


def implementation(name: str) -> Scanners:
    if name not in resp.available():
        pytest.fail(str(resp.EXTENSION_ERROR))
    return resp.available()[name]


def both() -> tuple[Scanners, Scanners]:
    return implementation("python"), implementation("c")


ARG = st.binary(min_size=0, max_size=40) | st.sampled_from([b"GET", b"set", b"\r\n", b"*1", b"$"])
COMMAND = st.lists(ARG, min_size=1, max_size=6)


@pytest.mark.parametrize("name", BOTH)
@settings(max_examples=200, deadline=None)
@given(st.lists(COMMAND, min_size=1, max_size=12), st.integers(min_value=1, max_value=50))
def test_whole_buffers_and_pieces_agree(name: str, commands: list[list[bytes]], piece: int) -> None:
    impl = implementation(name)
    data = b"".join(encode_command(args) for args in commands)
    whole_src, whole = impl.RequestScanner().feed(data)  # one buffer (Python: hiredis)
    scanner = impl.RequestScanner()
    pieces: list[list[bytes]] = []
    raws: list[bytes] = []
    for start in range(0, len(data), piece):  # partial frames
        src, found = scanner.feed(data[start : start + piece])
        pieces.extend(cmd.args for cmd in found)
        raws.extend(src[cmd.start : cmd.end] for cmd in found)
    assert [cmd.args for cmd in whole] == commands == pieces
    assert [cmd.name for cmd in whole] == [args[0].lower() for args in commands]
    assert [whole_src[cmd.start : cmd.end] for cmd in whole] == raws
    assert b"".join(raws) == data
    assert scanner.buffered == 0


def resp_value(depth: int = 0) -> st.SearchStrategy[bytes]:
    scalar = st.one_of(
        st.binary(max_size=20).map(lambda b: b"$%d\r\n%s\r\n" % (len(b), b)),
        st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda i: b":%d\r\n" % i),
        st.just(b"+OK\r\n"),
        st.just(b"-ERR x\r\n"),
        st.just(b"_\r\n"),
        st.just(b"$-1\r\n"),
        st.just(b"*-1\r\n"),
        st.just(b"#f\r\n"),
        st.just(b",1.5\r\n"),
        st.just(b"(3492890328409238509324850943850943825024385\r\n"),
        st.binary(max_size=10).map(lambda b: b"=%d\r\ntxt:%s\r\n" % (len(b) + 4, b)),
        st.binary(max_size=10).map(lambda b: b"!%d\r\n%s\r\n" % (len(b), b)),
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


REPLY = resp_value() | resp_value().map(lambda v: b">" + v[1:] if v[:1] in b"*~" else v)


@pytest.mark.parametrize("name", BOTH)
@settings(max_examples=200, deadline=None)
@given(st.lists(REPLY, min_size=1, max_size=8), st.integers(min_value=1, max_value=30))
def test_reply_scanner_finds_every_boundary(name: str, replies: list[bytes], piece: int) -> None:
    impl = implementation(name)
    stream = b"".join(replies)
    scanner = impl.ReplyScanner()
    found: list[bytes] = []
    pushes: list[bytes] = []
    for start in range(0, len(stream), piece):
        src, ends = scanner.feed(stream[start : start + piece])
        assert scanner.pushes == sum(1 for end in ends if end < 0)
        prev = 0
        for end in ends:
            found.append(src[prev : abs(end)])
            if end < 0:
                pushes.append(src[prev : abs(end)])
            prev = abs(end)
    assert found == replies
    assert pushes == [reply for reply in replies if reply[:1] == b">"]
    assert scanner.buffered == 0


# --- differential: the same random streams to both implementations ----------------------------

HEADER_TEXT = st.one_of(
    st.integers(min_value=-3, max_value=70).map(lambda i: b"%d" % i),
    st.sampled_from(
        [
            *(b"", b"-", b"+1", b"01", b"-0", b" 2", b"2 ", b"1_0", b"9223372036854775807"),
            *(b"9223372036854775808", b"-9223372036854775808", b"99999999999999999999"),
        ]
    ),
    st.text("0123456789-+ x", max_size=22).map(str.encode),
)
REQUEST_PIECE = st.one_of(
    COMMAND.map(encode_command),
    COMMAND.map(encode_command),
    st.lists(st.sampled_from([b"GET", b"k", b'"a b"', b"'c'", b'"\\x41"', b"'", b'"'])).map(
        lambda words: b" ".join(words) + b"\r\n"
    ),
    st.tuples(st.sampled_from([b"*", b"$"]), HEADER_TEXT).map(lambda t: t[0] + t[1] + b"\r\n"),
    st.binary(max_size=12),
    st.sampled_from([b"\r\n", b"\n", b"*", b"$", b"*1\r\n", b"$3\r\n", b"*0\r\n", b"*-1\r\n"]),
)
LIMITS = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {
            "max_bulk": st.integers(min_value=0, max_value=60),
            "max_multibulk": st.integers(min_value=0, max_value=8),
            "max_inline": st.integers(min_value=0, max_value=40),
            "max_query": st.integers(min_value=0, max_value=120),
        }
    ),
)


def mutate(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for index, byte in flips:
        if out:
            out[index % len(out)] = byte
    return bytes(out)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)] or [b""]


def request_outcome(impl: Scanners, limits: dict[str, int], pieces: list[bytes]) -> Any:
    scanner = impl.RequestScanner(**limits)
    out: list[Any] = []
    for piece in pieces:
        src, commands = scanner.feed(piece)
        error = scanner.error
        out.append(
            (
                src,
                [(cmd.args, cmd.name, cmd.start, cmd.end) for cmd in commands],
                None if error is None else (type(error), str(error)),
                scanner.buffered,
            )
        )
    return out


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(REQUEST_PIECE, max_size=10),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=3),
    st.lists(st.integers(min_value=0), max_size=8),
    LIMITS,
)
def test_request_scanners_agree(
    parts: list[bytes], flips: list[tuple[int, int]], cuts: list[int], limits: dict[str, int]
) -> None:
    python, c = both()
    pieces = split(mutate(b"".join(parts), flips), cuts)
    assert request_outcome(c, limits, pieces) == request_outcome(python, limits, pieces)


REPLY_PIECE = st.one_of(
    REPLY,
    REPLY,
    st.tuples(st.sampled_from(list(b"$!=*~>%|:+-_#,(")), HEADER_TEXT).map(
        lambda t: bytes([t[0]]) + t[1] + b"\r\n"
    ),
    st.binary(max_size=8),
)


def reply_outcome(impl: Scanners, pieces: list[bytes]) -> Any:
    scanner = impl.ReplyScanner()
    out: list[Any] = []
    for piece in pieces:
        try:
            src, ends = scanner.feed(piece)
        except ProtocolError as exc:
            out.append(("error", str(exc), scanner.pushes, scanner.buffered))
            scanner.reset()
            continue
        out.append((src, ends, scanner.pushes, scanner.buffered))
    return out


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(REPLY_PIECE, max_size=8),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=3),
    st.lists(st.integers(min_value=0), max_size=8),
)
def test_reply_scanners_agree(
    parts: list[bytes], flips: list[tuple[int, int]], cuts: list[int]
) -> None:
    python, c = both()
    pieces = split(mutate(b"".join(parts), flips), cuts)
    assert reply_outcome(c, pieces) == reply_outcome(python, pieces)


@settings(max_examples=1000, deadline=None)
@given(HEADER_TEXT | st.binary(max_size=22))
def test_header_integers_agree(raw: bytes) -> None:
    implementation("c")
    from podkit.redis_ambassador.resp import _resp

    try:
        python: int | None = pyscan._header_int(raw, 0, len(raw))
    except ValueError:
        python = None
    assert _resp.header_int(raw) == python
    if python is not None:  # exactly the canonical decimal text of a signed 64-bit integer
        assert b"%d" % python == raw
        assert -(2**63) <= python < 2**63
