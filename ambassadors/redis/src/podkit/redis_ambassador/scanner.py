"""Incremental RESP frame scanners: client requests in, upstream replies back.

:class:`RequestScanner` turns the bytes a client sends into complete commands — RESP multibulk
(``*N\\r\\n$len\\r\\n...``, the fast path) and inline commands (redis-cli, telnet) — in one pass over
each received buffer, keeping a partial frame buffered until the rest arrives. It enforces the
limits Redis enforces (``proto-max-bulk-len``, the multibulk count, the inline length, the query
buffer) and raises :class:`ProtocolError` with Redis's own wording; the caller replies
``-ERR Protocol error: ...`` and closes the connection.

:class:`ReplyScanner` finds where each complete reply ends in an upstream's byte stream, for every
RESP2 and RESP3 type (nested aggregates, maps, sets, attributes ``|`` that prefix a reply, and push
frames ``>`` that are not replies to a command), so replies can be cut apart and re-ordered
without being decoded.
"""

from __future__ import annotations

import hiredis

__all__ = [
    "Command",
    "ProtocolError",
    "ReplyScanner",
    "RequestScanner",
    "encode_command",
    "split_inline",
]

_CRLF = b"\r\n"
_BIG_HEADER = 64 * 1024
_DIGITS = bytes(len(str(i)) for i in range(10000))  # decimal digits of small numbers
_FAST_LIMIT = (
    256 * 1024
)  # buffers up to this size may take hiredis's C parser  # Redis: PROTO_INLINE_MAX_SIZE also bounds "*N" / "$N" header lines


class ProtocolError(Exception):
    """Malformed client input; the message follows ``-ERR Protocol error: <message>``."""


class Command:
    """One complete client command: its arguments and where its bytes sit in the scanned buffer.

    ``end`` is -1 for an inline command, whose bytes must be re-encoded as RESP to forward.
    """

    __slots__ = ("args", "end", "name", "start")

    def __init__(self, args: list[bytes], start: int, end: int) -> None:
        self.args = args
        self.name = args[0].lower()
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"Command({self.args!r})"


def encode_command(args: list[bytes]) -> bytes:
    """Encode arguments as a RESP multibulk command."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n" % len(arg))
        parts.append(arg)
        parts.append(_CRLF)
    return b"".join(parts)


_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "a": "\a",
    "\\": "\\",
    '"': '"',
}


def split_inline(line: bytes) -> list[bytes]:
    """Split an inline command like Redis's ``sdssplitargs``: spaces, "quotes" with escapes, 'quotes'."""
    if b'"' not in line and b"'" not in line:
        return line.split()
    text = line.decode("latin-1")
    args: list[bytes] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return args
        current: list[str] = []
        in_dq = in_sq = False
        while True:
            if in_dq:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                ch = text[i]
                if ch == "\\" and i + 3 < n and text[i + 1] == "x" and _is_hex(text[i + 2 : i + 4]):
                    current.append(chr(int(text[i + 2 : i + 4], 16)))
                    i += 3
                elif ch == "\\" and i + 1 < n:
                    nxt = text[i + 1]
                    current.append(_ESCAPES.get(nxt, nxt))
                    i += 1
                elif ch == '"':
                    if i + 1 < n and not text[i + 1].isspace():
                        raise ProtocolError("unbalanced quotes in request")
                    in_dq = False
                    i += 1
                    break
                else:
                    current.append(ch)
            elif in_sq:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                ch = text[i]
                if ch == "\\" and i + 1 < n and text[i + 1] == "'":
                    current.append("'")
                    i += 1
                elif ch == "'":
                    if i + 1 < n and not text[i + 1].isspace():
                        raise ProtocolError("unbalanced quotes in request")
                    in_sq = False
                    i += 1
                    break
                else:
                    current.append(ch)
            else:
                if i >= n:
                    break
                ch = text[i]
                if ch.isspace():
                    break
                if ch == '"':
                    in_dq = True
                elif ch == "'":
                    in_sq = True
                else:
                    current.append(ch)
            i += 1
        args.append("".join(current).encode("latin-1"))


def _is_hex(text: str) -> bool:
    return len(text) == 2 and all(c in "0123456789abcdefABCDEF" for c in text)


def _header_int(src: bytes | bytearray, start: int, stop: int) -> int:
    """The integer in ``src[start:stop]``; ValueError unless it is a plain decimal."""
    raw = src[start:stop]
    if not raw or not (raw.isdigit() or (raw[0] == 45 and raw[1:].isdigit())):
        raise ValueError(raw)
    return int(raw)


class RequestScanner:
    """Scans client bytes into :class:`Command` objects, buffering an incomplete last frame."""

    __slots__ = (
        "_buf",
        "_fast_limit",
        "_reader",
        "error",
        "max_bulk",
        "max_inline",
        "max_multibulk",
        "max_query",
    )

    def __init__(
        self,
        *,
        max_bulk: int = 512 * 1024 * 1024,
        max_multibulk: int = 1024 * 1024,
        max_inline: int = 64 * 1024,
        max_query: int = 1024 * 1024 * 1024,
    ) -> None:
        self._buf = b""
        self.error: ProtocolError | None = None
        self.max_bulk = max_bulk
        self.max_multibulk = max_multibulk
        self.max_inline = max_inline
        self.max_query = max_query
        self._reader = hiredis.Reader()
        self._fast_limit = min(_FAST_LIMIT, max_bulk, max_query)

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame waiting for the rest."""
        return len(self._buf)

    def feed(self, data: bytes) -> tuple[bytes, list[Command]]:
        """Scan ``data`` after what was buffered; returns the scanned bytes and the commands.

        Each command's ``start``/``end`` index into the returned bytes. On malformed input or a
        limit exceeded, the commands before the bad frame are still returned (Redis runs them
        too) and :attr:`error` is set; the connection is then done.
        """
        commands: list[Command] = []
        if self.error is not None:
            return b"", commands
        if not self._buf and data[:1] == b"*" and len(data) <= self._fast_limit:
            fast = self._fast(data)
            if fast is not None:
                return data, fast
        src = self._buf + data if self._buf else data
        try:
            return self._scan(src, commands)
        except ProtocolError as exc:
            self.error = exc
            self._buf = b""
            return bytes(src), commands

    def _fast(self, data: bytes) -> list[Command] | None:
        """Parse a buffer of whole, canonically encoded multibulk commands with hiredis.

        Returns None (and the Python scanner takes the buffer) unless every frame is a complete
        array of bulk strings whose canonical encoding accounts for every byte: then each
        command's offsets are exact without looking at the bytes again.
        """
        reader = self._reader
        reader.feed(data)
        commands: list[Command] = []
        digits = _DIGITS
        pos = 0
        try:
            while (item := reader.gets()) is not False:
                if item.__class__ is not list or not item:
                    raise TypeError
                size = digits[len(item)] + 3
                for arg in item:
                    if arg.__class__ is not bytes:
                        raise TypeError
                    n = len(arg)
                    size += digits[n] + n + 5
                commands.append(Command(item, pos, pos + size))
                pos += size
        except (hiredis.ProtocolError, TypeError, IndexError):
            self._reader = hiredis.Reader()
            return None
        if pos != len(data) or reader.has_data() or len(commands) > self.max_multibulk:
            self._reader = hiredis.Reader()
            return None
        return commands

    def _scan(self, src: bytes, commands: list[Command]) -> tuple[bytes, list[Command]]:
        end = len(src)
        append = commands.append
        find = src.find
        pos = 0
        max_bulk = self.max_bulk
        while pos < end:
            start = pos
            if src[pos] == 42:  # '*': multibulk
                nl = find(_CRLF, pos + 1)
                if nl < 0:
                    if end - pos > _BIG_HEADER:
                        raise ProtocolError("too big mbulk count string")
                    break
                try:
                    count = _header_int(src, pos + 1, nl)
                except ValueError:
                    raise ProtocolError("invalid multibulk length") from None
                if count > self.max_multibulk:
                    raise ProtocolError("invalid multibulk length")
                pos = nl + 2
                if count <= 0:
                    continue  # Redis ignores empty multibulks
                args: list[bytes] = []
                for _ in range(count):
                    if pos >= end:
                        break
                    if src[pos] != 36:  # '$'
                        got = chr(src[pos])
                        raise ProtocolError(f"expected '$', got '{got}'")
                    nl = find(_CRLF, pos + 1)
                    if nl < 0:
                        if end - pos > _BIG_HEADER:
                            raise ProtocolError("too big bulk count string")
                        break
                    try:
                        length = _header_int(src, pos + 1, nl)
                    except ValueError:
                        raise ProtocolError("invalid bulk length") from None
                    if length < 0 or length > max_bulk:
                        raise ProtocolError("invalid bulk length")
                    pos = nl + 2
                    stop = pos + length
                    if stop + 2 > end:
                        break
                    args.append(bytes(src[pos:stop]))
                    pos = stop + 2
                else:
                    append(Command(args, start, pos))
                    continue
                pos = start  # incomplete: keep the frame buffered
                break
            # inline command
            nl = find(b"\n", pos)
            if nl < 0:
                if end - pos > self.max_inline:
                    raise ProtocolError("too big inline request")
                break
            if nl - pos > self.max_inline:
                raise ProtocolError("too big inline request")
            line = src[pos:nl]
            if line.endswith(b"\r"):
                line = line[:-1]
            pos = nl + 1
            words = split_inline(bytes(line))
            if words:
                append(Command(words, start, -1))
        rest = end - pos
        if rest > self.max_query:
            raise ProtocolError("query buffer limit exceeded")
        self._buf = bytes(src[pos:]) if rest else b""
        return bytes(src) if not isinstance(src, bytes) else src, commands


_SIMPLE = frozenset(b"+-:_#,(")
_BLOB = frozenset(b"$!=")
_AGGREGATE = frozenset(b"*~>")


class ReplyScanner:
    """Finds complete replies in an upstream's stream; an incomplete one stays buffered.

    :meth:`feed` returns the bytes scanned and the end offset of each complete top-level frame in
    them, in order; a push frame (``>``, out-of-band in RESP3) has its end offset negated.
    Bytes after the last complete frame are kept for the next call.
    """

    __slots__ = ("_buf", "pushes")

    def __init__(self) -> None:
        self._buf = b""
        self.pushes = 0  # push frames found by the last feed()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> tuple[bytes, list[int]]:
        src = self._buf + data if self._buf else data
        end = len(src)
        ends: list[int] = []
        pos = 0
        find = src.find
        self.pushes = 0
        while pos < end:
            t = src[pos]
            # fast paths for the common top-level scalars
            if t in _SIMPLE:
                nl = find(_CRLF, pos + 1)
                if nl < 0:
                    break
                pos = nl + 2
                ends.append(pos)
                continue
            if t == 36:  # '$'
                nl = find(_CRLF, pos + 1)
                if nl < 0:
                    break
                length = int(src[pos + 1 : nl])
                stop = nl + 2 if length < 0 else nl + 4 + length
                if stop > end:
                    break
                pos = stop
                ends.append(pos)
                continue
            stop = _scan_value(src, pos, end)
            if stop < 0:
                break
            if t == 62:
                self.pushes += 1
                ends.append(-stop)
            else:
                ends.append(stop)
            pos = stop
        self._buf = src[pos:] if pos < end else b""
        return src, ends


def _scan_value(src: bytes, pos: int, end: int) -> int:
    """End offset of the (possibly nested) value starting at ``pos``, or -1 if incomplete."""
    find = src.find
    needed = [1]  # values still needed at each open aggregate level
    while True:
        if pos >= end:
            return -1
        t = src[pos]
        nl = find(_CRLF, pos + 1)
        if nl < 0:
            return -1
        if t in _SIMPLE:
            pos = nl + 2
        elif t in _BLOB:
            length = int(src[pos + 1 : nl])
            pos = nl + 2 if length < 0 else nl + 4 + length
            if pos > end:
                return -1
        elif t in _AGGREGATE or t == 37 or t == 124:  # '%' map, '|' attribute
            count = int(src[pos + 1 : nl])
            pos = nl + 2
            if t == 37 or t == 124:
                count *= 2
            if t == 124:
                needed[-1] += 1  # the attribute precedes the value it annotates
            if count > 0:
                needed.append(count)
                continue
        else:
            raise ProtocolError(f"unexpected reply type byte {chr(t)!r} from upstream")
        # one value completed: close every aggregate it completes
        needed[-1] -= 1
        while needed[-1] == 0:
            needed.pop()
            if not needed:
                return pos
            needed[-1] -= 1
