"""The RESP scanners alone: requests split at every byte, limits, errors, every reply type."""

from __future__ import annotations

import pytest

from podkit.redis_ambassador.commands import BUILTIN_READONLY, CommandTable
from podkit.redis_ambassador.scanner import (
    ProtocolError,
    ReplyScanner,
    RequestScanner,
    encode_command,
    split_inline,
)

PIPELINE = (
    encode_command([b"SET", b"key", b"va\r\nlue"])
    + b"PING\r\n"
    + encode_command([b"GET", b"key"])
    + b"*0\r\n"
    + b"SET \"a b\" 'c d'\n"
    + encode_command([b"MSET", b"k1", b"", b"k2", b"x" * 300])
)
EXPECTED = [
    [b"SET", b"key", b"va\r\nlue"],
    [b"PING"],
    [b"GET", b"key"],
    [b"SET", b"a b", b"c d"],
    [b"MSET", b"k1", b"", b"k2", b"x" * 300],
]


def scan_in_pieces(data: bytes, size: int) -> list[list[bytes]]:
    scanner = RequestScanner()
    out: list[list[bytes]] = []
    for start in range(0, len(data), size):
        src, commands = scanner.feed(data[start : start + size])
        for cmd in commands:
            out.append(cmd.args)
            if cmd.end >= 0:  # the raw bytes of a RESP command are exactly its encoding
                assert src[cmd.start : cmd.end] == encode_command(cmd.args)
    assert scanner.buffered == 0
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 100000])
def test_requests_split_anywhere(size: int) -> None:
    assert scan_in_pieces(PIPELINE, size) == EXPECTED


def test_names_are_lower_case_and_partial_frames_stay_buffered() -> None:
    scanner = RequestScanner()
    _, commands = scanner.feed(b"*2\r\n$3\r\nGeT\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$5\r\nab")
    assert [cmd.name for cmd in commands] == [b"get"]
    assert scanner.buffered == len(b"*2\r\n$3\r\nGET\r\n$5\r\nab")
    _, commands = scanner.feed(b"cde\r\n")
    assert commands[0].args == [b"GET", b"abcde"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"*x\r\n", "invalid multibulk length"),
        (b"*2\r\n:1\r\n", "expected '$', got ':'"),
        (b"*1\r\n$-5\r\n", "invalid bulk length"),
        (b"*1\r\n$abc\r\n", "invalid bulk length"),
        (b"*1\r\n$2000\r\n", "invalid bulk length"),
        (b"*99999999\r\n", "invalid multibulk length"),
        (b"SET 'a\r\n", "unbalanced quotes in request"),
        (b"x" * 70000, "too big inline request"),
        (b"*1\r\n$" + b"1" * 70000, "too big bulk count string"),
        (b"*1\r\n*1\r\n+\r\n", "expected '$', got '*'"),
        (b"*1\r\n:1\r\n", "expected '$', got ':'"),
    ],
)
def test_malformed_requests(data: bytes, message: str) -> None:
    scanner = RequestScanner(max_bulk=1000)
    _, commands = scanner.feed(encode_command([b"PING"]) + data)
    assert [cmd.args for cmd in commands] == [[b"PING"]]  # what came before still runs
    assert isinstance(scanner.error, ProtocolError)
    assert str(scanner.error) == message
    assert scanner.feed(b"PING\r\n")[1] == []  # the connection is done


def test_non_canonical_encodings_leave_the_fast_path_with_exact_offsets() -> None:
    data = b"*2\r\n$3\r\nGET\r\n$01\r\nk\r\n" + encode_command([b"PING"])
    src, commands = RequestScanner().feed(data)
    assert [cmd.args for cmd in commands] == [[b"GET", b"k"], [b"PING"]]
    assert [src[cmd.start : cmd.end] for cmd in commands] == [data[:21], data[21:]]
    big = encode_command([b"SET", b"k", b"v" * 20000])  # past the digit table: Python path
    src, commands = RequestScanner().feed(big + big)
    assert [len(cmd.args[2]) for cmd in commands] == [20000, 20000]
    assert src[commands[1].start : commands[1].end] == big


def test_query_buffer_limit() -> None:
    scanner = RequestScanner(max_query=100)
    scanner.feed(b"*2\r\n$3\r\nSET\r\n$500\r\n" + b"x" * 200)
    assert str(scanner.error) == "query buffer limit exceeded"


def test_inline_quoting_like_redis() -> None:
    assert split_inline(b'set k "a\\x41\\n\\"b"') == [b"set", b"k", b'aA\n"b']
    assert split_inline(b"  get   key  ") == [b"get", b"key"]
    assert split_inline(b"echo 'it\\'s'") == [b"echo", b"it's"]
    with pytest.raises(ProtocolError):
        split_inline(b'echo "a"b')


REPLIES = [
    b"+OK\r\n",
    b"-ERR wrong\r\n",
    b":42\r\n",
    b"$5\r\nhe\r\nl\r\n",
    b"$-1\r\n",
    b"*-1\r\n",
    b"*0\r\n",
    b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n+b\r\n%1\r\n+k\r\n~2\r\n:1\r\n:2\r\n",
    b"_\r\n",
    b"#t\r\n",
    b",3.14\r\n",
    b"(12345678901234567890\r\n",
    b"!5\r\nERR x\r\n",
    b"=7\r\ntxt:abc\r\n",
    b"|1\r\n+key-popularity\r\n*1\r\n,0.1\r\n$3\r\nfoo\r\n",
    b"%2\r\n+a\r\n|1\r\n+x\r\n+y\r\n:1\r\n+b\r\n*0\r\n",
]
PUSH = b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"


@pytest.mark.parametrize("size", [1, 3, 16, 100000])
def test_replies_split_anywhere(size: int) -> None:
    stream = b"".join(REPLIES[:8]) + PUSH + b"".join(REPLIES[8:])
    scanner = ReplyScanner()
    frames: list[bytes] = []
    pushes: list[bytes] = []
    for start in range(0, len(stream), size):
        src, ends = scanner.feed(stream[start : start + size])
        prev = 0
        for end in ends:
            (pushes if end < 0 else frames).append(src[prev : abs(end)])
            prev = abs(end)
    assert frames == REPLIES
    assert pushes == [PUSH]
    assert scanner.buffered == 0


def test_command_table_subcommands_and_fallback() -> None:
    table = CommandTable()
    assert table.is_readonly(b"get", [b"GET", b"k"])
    assert table.is_readonly(b"object", [b"OBJECT", b"ENCODING", b"k"])
    assert not table.is_readonly(b"object", [b"OBJECT", b"HELP"])
    assert not table.is_readonly(b"object", [b"OBJECT"])
    for name in (b"eval_ro", b"evalsha_ro", b"fcall_ro", b"sort_ro"):
        assert name in BUILTIN_READONLY
    for name in (b"set", b"eval", b"blpop", b"wait", b"nosuchcommand"):
        assert not table.is_readonly(name, [name])


def test_command_table_from_command_reply() -> None:
    reply = [
        [b"get", 2, [b"readonly", b"fast"], 1, 1, 1, [], [], [], []],
        [b"set", -3, [b"write", b"denyoom"], 1, 1, 1, [], [], [], []],
        [
            b"object",
            -2,
            [],
            0,
            0,
            0,
            [],
            [],
            [],
            [
                [b"object|encoding", 3, [b"readonly"], 2, 2, 1, [], [], [], []],
                [b"object|help", 2, [b"loading"], 0, 0, 0, [], [], [], []],
            ],
        ],
        [b"blpop", -3, [b"write", b"blocking"], 1, -2, 1, [], [], [], []],
    ]
    table = CommandTable.from_command_reply(reply)
    assert table.source == "master"
    assert table.is_readonly(b"get", [b"get", b"k"])
    assert not table.is_readonly(b"set", [b"set", b"k", b"v"])
    assert table.is_readonly(b"object", [b"object", b"encoding", b"k"])
    assert not table.is_readonly(b"object", [b"object", b"help"])
    assert b"blpop" in table.blocking
    with pytest.raises(ValueError):
        CommandTable.from_command_reply([])
