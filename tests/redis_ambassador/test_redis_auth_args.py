"""AUTH and HELLO arguments on their own (no servers): parsed and answered as Redis does."""

from __future__ import annotations

import pytest

from podkit.redis_ambassador.auth import Hello, parse_hello, password_matches


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("HELLO", Hello(None, None, None, None)),
        ("HELLO 3", Hello(3, None, None, None)),
        ("HELLO 2 AUTH u p SETNAME n", Hello(2, b"u", b"p", b"n")),
        ("HELLO 3 setname n auth u p", Hello(3, b"u", b"p", b"n")),
        ("HELLO 4", b"-NOPROTO unsupported protocol version\r\n"),
        ("HELLO x", b"-NOPROTO unsupported protocol version\r\n"),
        ("HELLO 3 AUTH u", b"-ERR Syntax error in HELLO option 'AUTH'\r\n"),
        ("HELLO 3 BOGUS", b"-ERR Syntax error in HELLO option 'BOGUS'\r\n"),
    ],
)
def test_parse_hello(args: str, expected: Hello | bytes) -> None:
    assert parse_hello([arg.encode() for arg in args.split()]) == expected


def test_only_the_default_user_has_the_local_password() -> None:
    assert password_matches("s3cret", None, b"s3cret")
    assert password_matches("s3cret", b"default", b"s3cret")
    assert not password_matches("s3cret", b"bob", b"s3cret")
    assert not password_matches("s3cret", None, b"wrong")
