"""AUTH and HELLO as a client sends them: their arguments, the local password, their errors.

Pure helpers for :mod:`.session`: :func:`parse_hello` reads ``HELLO [protover [AUTH user pass]
[SETNAME name]]`` into a :class:`Hello` (or the error Redis answers), and
:func:`password_matches` checks credentials against ``--local-password`` as Redis checks the
default user's (in constant time). The replies are Redis's own words.
"""

from __future__ import annotations

import hmac
from typing import NamedTuple

__all__ = [
    "HELLO_NOAUTH",
    "NOAUTH",
    "WRONGPASS",
    "Hello",
    "parse_hello",
    "password_matches",
]

NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
HELLO_NOAUTH = (
    b"-NOAUTH HELLO must be called with the client already authenticated, otherwise "
    b"the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the "
    b"client and select the RESP protocol version at the same time\r\n"
)


class Hello(NamedTuple):
    """A HELLO's arguments: ``proto`` None when not given (the connection keeps its own)."""

    proto: int | None
    username: bytes | None
    password: bytes | None
    setname: bytes | None


def parse_hello(args: list[bytes]) -> Hello | bytes:
    """The HELLO's arguments, or the error reply Redis gives for them."""
    proto: int | None = None
    username: bytes | None = None
    password: bytes | None = None
    setname: bytes | None = None
    i = 1
    if len(args) > 1:
        if not args[1].isdigit() or int(args[1]) not in (2, 3):
            return b"-NOPROTO unsupported protocol version\r\n"
        proto = int(args[1])
        i = 2
    while i < len(args):
        option = args[i].lower()
        if option == b"auth" and i + 2 < len(args):
            username, password = args[i + 1], args[i + 2]
            i += 3
        elif option == b"setname" and i + 1 < len(args):
            setname = args[i + 1]
            i += 2
        else:
            return b"-ERR Syntax error in HELLO option '" + args[i] + b"'\r\n"
    return Hello(proto, username, password, setname)


def password_matches(secret: str, username: bytes | None, password: bytes) -> bool:
    """Whether AUTH ``[username] password`` is the default user with the local password."""
    return username in (None, b"default") and hmac.compare_digest(password, secret.encode())
