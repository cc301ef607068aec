"""The RESP scanners alone, in both implementations (C and pure Python): requests split at every
byte, limits, every error message, header integers parsed like Redis's string2ll, bounds (lengths
near 2**63, counts larger than the buffer), every reply type. The C parameter fails, with what to
install, when the extension is not built."""

from __future__ import annotations

from typing import Any

import pytest

from podkit.redis_ambassador import resp
from podkit.redis_ambassador.commands import BUILTIN_READONLY, CommandTable
from podkit.redis_ambassador.resp import (
    ProtocolError,
    Scanners,
    encode_command,
    split_inline,
)
from podkit.redis_ambassador.resp import python as pyscan

LLONG_MAX = (1 << 63) - 1


@pytest.fixture(params=["python", "c"])
def impl(request: pytest.FixtureRequest) -> Scanners:
    if request.param not in resp.available():
        pytest.fail(str(resp.EXTENSION_ERROR))
    return resp.available()[request.param]


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


def scan_in_pieces(impl: Scanners, data: bytes, size: int) -> list[list[bytes]]:
    scanner = impl.RequestScanner()
    out: list[list[bytes]] = []
    for start in range(0, len(data), size):
        src, commands = scanner.feed(data[start : start + size])
        for cmd in commands:
            out.append(cmd.args)
            assert cmd.name == cmd.args[0].lower()
            if cmd.end >= 0:  # the raw bytes of a RESP command are exactly its encoding
                assert src[cmd.start : cmd.end] == encode_command(cmd.args)
    assert scanner.buffered == 0
    assert scanner.error is None
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 100000])
def test_requests_split_anywhere(impl: Scanners, size: int) -> None:
    assert scan_in_pieces(impl, PIPELINE, size) == EXPECTED


def test_names_are_lower_case_and_partial_frames_stay_buffered(impl: Scanners) -> None:
    scanner = impl.RequestScanner()
    _, commands = scanner.feed(b"*2\r\n$3\r\nGeT\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$5\r\nab")
    assert [cmd.name for cmd in commands] == [b"get"]
    assert scanner.buffered == len(b"*2\r\n$3\r\nGET\r\n$5\r\nab")
    _, commands = scanner.feed(b"cde\r\n")
    assert commands[0].args == [b"GET", b"abcde"]
    assert commands[0].name == b"get"
    assert scanner.buffered == 0


def test_a_repeated_command_name_does_not_leak_between_commands(impl: Scanners) -> None:
    # the C scanner shares args[0] and name between consecutive commands that repeat them
    scanner = impl.RequestScanner()
    data = encode_command([b"A", b"x"]) + encode_command([b"A", b"y"]) + encode_command([b"a"])
    _, commands = scanner.feed(data)
    assert [(cmd.args, cmd.name) for cmd in commands] == [
        ([b"A", b"x"], b"a"),
        ([b"A", b"y"], b"a"),
        ([b"a"], b"a"),
    ]
    assert b"A".lower() == b"a"  # and CPython's cached one-byte objects are left alone
    assert bytes([65]) == b"A"


# every error message, with the commands before the bad frame still returned
MALFORMED = [
    (b"*x\r\n", "invalid multibulk length"),
    (b"*\r\n", "invalid multibulk length"),
    (b"*99999999\r\n", "invalid multibulk length"),
    (b"*2\r\n:1\r\n", "expected '$', got ':'"),
    (b"*1\r\n*1\r\n+\r\n", "expected '$', got '*'"),
    (b"*1\r\n\xe9", "expected '$', got '\xe9'"),
    (b"*1\r\n$-5\r\n", "invalid bulk length"),
    (b"*1\r\n$abc\r\n", "invalid bulk length"),
    (b"*1\r\n$2000\r\n", "invalid bulk length"),
    (b"*" + b"1" * 70000, "too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 70000, "too big bulk count string"),
    (b"x" * 70000, "too big inline request"),
    (b"x" * 70000 + b"\r\n", "too big inline request"),
    (b"SET 'a\r\n", "unbalanced quotes in request"),
    (b'GET "a"b\r\n', "unbalanced quotes in request"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed_requests(impl: Scanners, data: bytes, message: str) -> None:
    scanner = impl.RequestScanner(max_bulk=1000)
    _, commands = scanner.feed(encode_command([b"PING"]) + b"PING\r\n" + data)
    assert [cmd.args for cmd in commands] == [[b"PING"], [b"PING"]]  # what came before runs
    assert isinstance(scanner.error, ProtocolError)
    assert str(scanner.error) == message
    assert scanner.buffered == 0
    assert scanner.feed(b"PING\r\n") == (b"", [])  # the connection is done


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed_requests_byte_by_byte(impl: Scanners, data: bytes, message: str) -> None:
    scanner = impl.RequestScanner(max_bulk=1000)
    found = []
    size = 1 if len(data) < 1000 else 997  # byte by byte, or in pieces for the long ones
    for i in range(0, len(data), size):
        found.extend(scanner.feed(data[i : i + size])[1])
        if scanner.error is not None:
            break
    assert found == []
    assert str(scanner.error) == message


@pytest.mark.parametrize(
    "header",
    [
        b"01",  # leading zero
        b"+1",  # no plus sign
        b" 1",
        b"1 ",
        b"-0",
        b"-",
        b"1_0",  # int() takes it, string2ll does not
        b"\xd9\xa1",  # an Arabic-Indic digit
        b"9223372036854775808",  # LLONG_MAX + 1
        b"99999999999999999999",  # 20 digits, overflows 64 bits
        b"000000000000000000001",  # 21 bytes
    ],
)
def test_header_integers_are_parsed_like_string2ll(impl: Scanners, header: bytes) -> None:
    scanner = impl.RequestScanner(max_bulk=LLONG_MAX, max_multibulk=LLONG_MAX)
    scanner.feed(b"*" + header + b"\r\n")
    assert str(scanner.error) == "invalid multibulk length"
    scanner = impl.RequestScanner(max_bulk=LLONG_MAX, max_multibulk=LLONG_MAX)
    scanner.feed(b"*1\r\n$" + header + b"\r\n")
    assert str(scanner.error) == "invalid bulk length"
    with pytest.raises(ProtocolError, match="invalid length"):
        impl.ReplyScanner().feed(b"$" + header + b"\r\n")
    with pytest.raises(ProtocolError, match="invalid length"):
        impl.ReplyScanner().feed(b"*1\r\n*" + header + b"\r\n")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"0", 0),
        (b"7", 7),
        (b"-1", -1),
        (b"9223372036854775807", LLONG_MAX),
        (b"-9223372036854775808", -LLONG_MAX - 1),
        (b"", None),
        (b"00", None),
        (b"-9223372036854775809", None),
        (b"1e3", None),
    ],
)
def test_header_int_in_both_implementations(raw: bytes, value: int | None) -> None:
    try:
        python: int | None = pyscan._header_int(raw, 0, len(raw))
    except ValueError:
        python = None
    assert python == value
    if "c" not in resp.available():
        pytest.fail(str(resp.EXTENSION_ERROR))
    from podkit.redis_ambassador.resp import _resp

    assert _resp.header_int(raw) == value


def test_empty_and_negative_multibulk_counts_are_ignored(impl: Scanners) -> None:
    data = b"*0\r\n*-1\r\n*-9223372036854775808\r\n" + encode_command([b"PING"])
    _, commands = impl.RequestScanner().feed(data)
    assert [(cmd.args, cmd.start, cmd.end) for cmd in commands] == [
        ([b"PING"], len(data) - 14, len(data))
    ]


def test_non_canonical_headers_are_rejected_and_offsets_stay_exact(impl: Scanners) -> None:
    scanner = impl.RequestScanner()
    _, commands = scanner.feed(encode_command([b"PING"]) + b"*2\r\n$3\r\nGET\r\n$01\r\nk\r\n")
    assert [cmd.args for cmd in commands] == [[b"PING"]]
    assert str(scanner.error) == "invalid bulk length"
    # Redis skips the two bytes after a payload without looking at them; so do the scanners
    data = b"*2\r\n$3\r\nGETxx$1\r\nk\r\n" + encode_command([b"PING"])
    src, commands = impl.RequestScanner().feed(data)
    assert [cmd.args for cmd in commands] == [[b"GET", b"k"], [b"PING"]]
    assert [src[cmd.start : cmd.end] for cmd in commands] == [data[:20], data[20:]]
    big = encode_command([b"SET", b"k", b"v" * 20000])  # past hiredis's digit table
    src, commands = impl.RequestScanner().feed(big + big)
    assert [len(cmd.args[2]) for cmd in commands] == [20000, 20000]
    assert src[commands[1].start : commands[1].end] == big


def test_multibulk_limit_holds_for_a_whole_buffer(impl: Scanners) -> None:
    # the Python scanner's hiredis fast path used to check the number of commands instead
    scanner = impl.RequestScanner(max_multibulk=2)
    _, commands = scanner.feed(encode_command([b"PING"]) + encode_command([b"DEL", b"a", b"b"]))
    assert [cmd.args for cmd in commands] == [[b"PING"]]
    assert str(scanner.error) == "invalid multibulk length"


def test_query_buffer_limit(impl: Scanners) -> None:
    scanner = impl.RequestScanner(max_query=100)
    scanner.feed(b"*2\r\n$3\r\nSET\r\n$500\r\n" + b"x" * 200)
    assert str(scanner.error) == "query buffer limit exceeded"
    scanner = impl.RequestScanner(max_query=100)  # the same, arriving in pieces
    assert scanner.feed(b"*2\r\n$3\r\nSET\r\n$500\r\n")[1] == []
    assert scanner.buffered == 19
    assert scanner.feed(b"x" * 50) == (b"", [])  # inside the payload: appended, not rescanned
    assert scanner.buffered == 69
    scanner.feed(b"x" * 50)
    assert str(scanner.error) == "query buffer limit exceeded"
    assert scanner.buffered == 0


def test_a_large_value_in_many_pieces(impl: Scanners) -> None:
    value = bytes(range(256)) * 4096  # 1 MiB
    data = encode_command([b"SET", b"k", value]) + encode_command([b"GET", b"k"])
    scanner = impl.RequestScanner()
    found: list[Any] = []
    for start in range(0, len(data), 4096):
        src, commands = scanner.feed(data[start : start + 4096])
        if not commands:
            assert src == b"" or scanner.buffered == len(src)
        found.extend((cmd.args, src[cmd.start : cmd.end]) for cmd in commands)
    assert found == [
        ([b"SET", b"k", value], encode_command([b"SET", b"k", value])),
        ([b"GET", b"k"], encode_command([b"GET", b"k"])),
    ]
    assert scanner.buffered == 0


@pytest.mark.parametrize(
    "data",
    [
        b"*",  # a header alone
        b"*1",
        b"*1\r",
        b"*1\r\n$",
        b"*1048576\r\n$1\r\na\r\n",  # a count far larger than the buffer
        b"*3\r\n$1\r\na\r\n",
        b"*1\r\n$9223372036854775807\r\n",  # a length near 2**63
        b"*1\r\n$9223372036854775807\r\nabc",
        b"*1\r\n$3\r\nab",
        b"*1\r\n$3\r\nabc\r",
        b"GET k",
    ],
)
def test_incomplete_frames_stay_buffered(impl: Scanners, data: bytes) -> None:
    scanner = impl.RequestScanner(max_bulk=LLONG_MAX, max_multibulk=LLONG_MAX)
    assert scanner.feed(data)[1] == []
    assert scanner.error is None
    assert scanner.buffered == len(data)
    assert scanner.feed(b"")[1] == []
    assert scanner.error is None
    assert scanner.buffered == len(data)


@pytest.mark.parametrize(
    ("prefix", "message"),
    [(b"*", "too big mbulk count string"), (b"*1\r\n$", "too big bulk count string")],
)
def test_header_line_limit_boundary(impl: Scanners, prefix: bytes, message: str) -> None:
    header = prefix[-1:] + b"1" * (64 * 1024 - 1)  # 64 KiB from the '*' or '$' on: still fine
    scanner = impl.RequestScanner()
    scanner.feed(prefix[:-1] + header)
    assert scanner.error is None
    assert scanner.buffered == len(prefix) - 1 + len(header)
    scanner.feed(b"1")  # one byte more
    assert str(scanner.error) == message


def test_inline_limit_boundary(impl: Scanners) -> None:
    scanner = impl.RequestScanner(max_inline=10)
    assert scanner.feed(b"x" * 10)[1] == []
    assert scanner.error is None
    assert [cmd.args for cmd in scanner.feed(b"\n")[1]] == [[b"x" * 10]]
    scanner.feed(b"y" * 11)
    assert str(scanner.error) == "too big inline request"
    scanner = impl.RequestScanner(max_inline=10)
    scanner.feed(b"y" * 11 + b"\n")
    assert str(scanner.error) == "too big inline request"


def test_a_bulk_payload_completes_at_its_exact_last_byte(impl: Scanners) -> None:
    scanner = impl.RequestScanner()
    assert scanner.feed(b"*1\r\n$10\r\n")[1] == []
    assert scanner.feed(b"0123456789\r") == (b"", [])  # one byte short: appended only
    src, commands = scanner.feed(b"\n")
    assert src == b"*1\r\n$10\r\n0123456789\r\n"
    assert [(cmd.args, cmd.start, cmd.end) for cmd in commands] == [([b"0123456789"], 0, 21)]
    replies = impl.ReplyScanner()
    assert replies.feed(b"*2\r\n$10\r\n")[1] == []
    assert replies.feed(b"0123456789\r") == (b"", [])
    assert replies.feed(b"\n") == (b"*2\r\n$10\r\n0123456789\r\n", [])
    assert replies.feed(b"$3\r\nab")[1] == []  # scanned: the nested blob's length is known
    assert replies.feed(b"c\r") == (b"", [])
    assert replies.feed(b"\n")[1] == [30]


def test_feed_takes_any_bytes_like_object(impl: Scanners) -> None:
    src, commands = impl.RequestScanner().feed(bytearray(encode_command([b"PING"])))
    assert src.__class__ is bytes
    assert [cmd.args for cmd in commands] == [[b"PING"]]
    src, ends = impl.ReplyScanner().feed(memoryview(b"+OK\r\n"))
    assert (src, ends) == (b"+OK\r\n", [5])


def test_command_objects(impl: Scanners) -> None:
    cmd = impl.Command([b"GeT", b"k"], 3, 17)
    assert (cmd.args, cmd.name, cmd.start, cmd.end) == ([b"GeT", b"k"], b"get", 3, 17)
    assert repr(cmd) == "Command([b'GeT', b'k'])"
    inline = impl.Command(args=[b"PING"], start=0, end=-1)
    assert (inline.name, inline.end) == (b"ping", -1)
    cmd.args = [b"SET"]
    assert cmd.args == [b"SET"]
    with pytest.raises(IndexError):
        impl.Command([], 0, 0)
    with pytest.raises(AttributeError):
        cmd.other = 1  # type: ignore[attr-defined]


def test_scanner_attributes(impl: Scanners) -> None:
    scanner = impl.RequestScanner(max_bulk=1, max_multibulk=2, max_inline=3, max_query=4)
    assert (scanner.max_bulk, scanner.max_multibulk, scanner.max_inline, scanner.max_query) == (
        1,
        2,
        3,
        4,
    )
    assert scanner.error is None
    with pytest.raises(TypeError):
        impl.RequestScanner(1000)
    replies = impl.ReplyScanner()
    assert (replies.pushes, replies.buffered) == (0, 0)
    with pytest.raises(TypeError):
        impl.ReplyScanner(1)


def test_inline_quoting_like_redis() -> None:
    assert split_inline(b'set k "a\\x41\\n\\"b"') == [b"set", b"k", b'aA\n"b']
    assert split_inline(b"  get   key  ") == [b"get", b"key"]
    assert split_inline(b"echo 'it\\'s'") == [b"echo", b"it's"]
    with pytest.raises(ProtocolError):
        split_inline(b'echo "a"b')


def test_inline_commands_through_both(impl: Scanners) -> None:
    data = b'  \r\n\nset k "a\\x41"\r\nGET k\n' + encode_command([b"PING"]) + b"QUIT"
    scanner = impl.RequestScanner()
    _, commands = scanner.feed(data)
    assert [(cmd.args, cmd.name, cmd.end) for cmd in commands] == [
        ([b"set", b"k", b"aA"], b"set", -1),
        ([b"GET", b"k"], b"get", -1),
        ([b"PING"], b"ping", len(data) - 4),
    ]
    assert [cmd.start for cmd in commands] == [5, 20, 26]
    assert scanner.buffered == 4
    assert [cmd.args for cmd in scanner.feed(b"\r\n")[1]] == [[b"QUIT"]]


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
    b"|0\r\n:1\r\n",
    b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
]
PUSH = b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"


@pytest.mark.parametrize("size", [1, 3, 16, 100000])
def test_replies_split_anywhere(impl: Scanners, size: int) -> None:
    stream = b"".join(REPLIES[:8]) + PUSH + b"".join(REPLIES[8:])
    scanner = impl.ReplyScanner()
    frames: list[bytes] = []
    pushes: list[bytes] = []
    for start in range(0, len(stream), size):
        src, ends = scanner.feed(stream[start : start + size])
        assert scanner.pushes == sum(1 for end in ends if end < 0)
        prev = 0
        for end in ends:
            (pushes if end < 0 else frames).append(src[prev : abs(end)])
            prev = abs(end)
    assert frames == REPLIES
    assert pushes == [PUSH]
    assert scanner.buffered == 0


def test_deeply_nested_replies(impl: Scanners) -> None:
    deep = b"*1\r\n" * 5000 + b"%1\r\n|1\r\n+a\r\n+b\r\n+k\r\n+v\r\n"
    scanner = impl.ReplyScanner()
    assert scanner.feed(deep[:-1]) == (deep[:-1], [])
    assert scanner.buffered == len(deep) - 1
    assert scanner.feed(deep[-1:]) == (deep, [len(deep)])


def test_a_large_reply_in_many_pieces(impl: Scanners) -> None:
    value = bytes(range(256)) * 4096
    stream = b"$%d\r\n%s\r\n+OK\r\n*2\r\n$%d\r\n%s\r\n:1\r\n" % (
        len(value),
        value,
        len(value),
        value,
    )
    scanner = impl.ReplyScanner()
    frames = []
    for start in range(0, len(stream), 4096):
        src, ends = scanner.feed(stream[start : start + 4096])
        prev = 0
        for end in ends:
            frames.append(src[prev:end])
            prev = end
    header = b"$%d\r\n" % len(value)
    assert frames == [
        header + value + b"\r\n",
        b"+OK\r\n",
        b"*2\r\n" + header + value + b"\r\n:1\r\n",
    ]
    assert scanner.buffered == 0


@pytest.mark.parametrize(
    "data",
    [
        b"$9223372036854775807\r\n",  # a length near 2**63
        b"*1\r\n$9223372036854775807\r\nab",
        b"*9223372036854775807\r\n:1\r\n",  # a count far larger than the buffer
        b"%9223372036854775807\r\n+a\r\n",  # doubled: must not overflow
        b"|9223372036854775807\r\n+a\r\n",
        b"*2\r\n|9223372036854775807\r\n",
        b"*",
        b"*1",
        b"*1\r",
        b"$3\r\nab",
        b"xyz",  # a bad type byte is only judged once its line is complete
    ],
)
def test_incomplete_replies_stay_buffered(impl: Scanners, data: bytes) -> None:
    scanner = impl.ReplyScanner()
    assert scanner.feed(data)[1] == []
    assert scanner.buffered == len(data)
    scanner.reset()
    assert scanner.buffered == 0
    assert scanner.feed(b"+OK\r\n") == (b"+OK\r\n", [5])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"x\r\n", "unexpected reply type byte 'x' from upstream"),
        (b"*2\r\n:1\r\n\x00\r\n", "unexpected reply type byte '\\x00' from upstream"),
        (b"+OK\r\n>1\r\n\xe9\r\n", "unexpected reply type byte '\xe9' from upstream"),
        (b"$x\r\n", "invalid length b'x' from upstream"),
        (b"%1\r\n+a\r\n!01\r\n", "invalid length b'01' from upstream"),
        (b"*+1\r\n", "invalid length b'+1' from upstream"),
    ],
)
def test_bad_replies(impl: Scanners, data: bytes, message: str) -> None:
    scanner = impl.ReplyScanner()
    scanner.feed(b"+OK")
    with pytest.raises(ProtocolError) as caught:
        scanner.feed(b"\r\n" + data)
    assert str(caught.value) == message
    assert scanner.buffered == 3  # left as it was


def test_negative_lengths_in_replies_are_nulls(impl: Scanners) -> None:
    stream = b"$-1\r\n*-1\r\n!-1\r\n%-1\r\n*2\r\n$-5\r\n~-1\r\n"
    _, ends = impl.ReplyScanner().feed(stream)
    assert ends == [5, 10, 15, 20, len(stream)]


def test_command_table_subcommands_and_fallback() -> None:
    table = CommandTable()
    assert table.is_readonly(b"get", [b"GET", b"k"])
    assert table.is_readonly(b"xinfo", [b"XINFO", b"STREAM", b"k"])
    assert not table.is_readonly(b"xinfo", [b"XINFO", b"HELP"])
    assert not table.is_readonly(b"xinfo", [b"XINFO"])
    # about the server, not the data: the master answers (a replica has its own configuration)
    assert not table.is_readonly(b"object", [b"OBJECT", b"ENCODING", b"k"])
    assert not table.is_write(b"object") and not table.is_write(b"publish")
    assert table.is_write(b"set") and table.is_write(b"nosuchcommand")
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
        [b"ping", -1, [b"fast"], 0, 0, 0, [], [], [], []],
        [b"eval", -3, [b"noscript", b"may_replicate"], 0, 0, 0, [], [], [], []],
        [
            b"function",
            -2,
            [],
            0,
            0,
            0,
            [],
            [],
            [],
            [[b"function|load", -3, [b"write", b"noscript"], 0, 0, 0, [], [], [], []]],
        ],
    ]
    table = CommandTable.from_command_reply(reply)
    assert not table.is_write(b"ping")
    assert table.is_write(b"eval") and table.is_write(b"function") and table.is_write(b"set")
    assert not table.is_write(b"object")
    assert table.source == "master"
    assert table.is_readonly(b"get", [b"get", b"k"])
    assert not table.is_readonly(b"set", [b"set", b"k", b"v"])
    assert not table.is_readonly(b"object", [b"object", b"encoding", b"k"])  # the master's
    assert not table.is_readonly(b"object", [b"object", b"help"])
    assert b"blpop" in table.blocking
    with pytest.raises(ValueError):
        CommandTable.from_command_reply([])
