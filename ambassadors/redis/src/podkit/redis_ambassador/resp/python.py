"""The RESP scanners in pure Python: client requests in, upstream replies back.

:class:`PyRequestScanner` turns the bytes a client sends into complete commands — RESP multibulk
(``*N\\r\\n$len\\r\\n...``, the fast path) and inline commands (redis-cli, telnet) — in one pass over
each received buffer, keeping a partial frame buffered until the rest arrives. It enforces the
limits Redis enforces (``proto-max-bulk-len``, the multibulk count, the inline length, the query
buffer) and reports :class:`ProtocolError` with Redis's own wording; the caller replies
``-ERR Protocol error: ...`` and closes the connection. Header integers (``*N``, ``$N``) are
parsed like Redis's ``string2ll``: optional ``-``, no ``+``, no leading zeros, no spaces, 64 bits.

:class:`PyReplyScanner` finds where each complete reply ends in an upstream's byte stream, for
every RESP2 and RESP3 type (nested aggregates, maps, sets, attributes ``|`` that prefix a reply,
and push frames ``>`` that are not replies to a command), so replies can be cut apart and
re-ordered without being decoded. A large bulk payload arriving in many reads is appended to the
buffer without rescanning until it is complete; such a ``feed()`` returns ``(b"", [])``.

The C extension (``_resp``) implements the same classes with identical results, limits and
errors; :mod:`podkit.redis_ambassador.resp` chooses between them.
"""

from __future__ import annotations

import hiredis

__all__ = [
    "ProtocolError",
    "PyCommand",
    "PyReplyScanner",
    "PyRequestScanner",
    "encode_command",
    "split_inline",
]

_CRLF = b"\r\n"
_BIG_HEADER = 64 * 1024  # Redis: PROTO_INLINE_MAX_SIZE also bounds "*N" / "$N" header lines
_DIGITS = bytes(len(str(i)) for i in range(10000))  # decimal digits of small numbers
_FAST_LIMIT = 256 * 1024  # buffers up to this size may take hiredis's C parser
_LLONG_MAX = (1 << 63) - 1


class ProtocolError(Exception):
    """Malformed client input; the message follows ``-ERR Protocol error: <message>``."""


class PyCommand:
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


def _header_int(src: bytes, start: int, stop: int) -> int:
    """The integer in ``src[start:stop]`` parsed like Redis's ``string2ll``; ValueError otherwise.

    Optional ``-``, then digits without a leading zero (``0`` alone is fine), at most 20 bytes,
    within a signed 64-bit integer. No ``+``, no spaces, no ``-0``.
    """
    raw = src[start:stop]
    if raw == b"0":
        return 0
    negative = raw[:1] == b"-"
    digits = raw[1:] if negative else raw
    if not digits or len(raw) > 20 or not digits.isdigit() or digits[0] == 48:  # '0'
        raise ValueError(raw)
    value = int(digits)
    if value > _LLONG_MAX + negative:
        raise ValueError(raw)
    return -value if negative else value


def _scan_inline(src: bytes, pos: int, max_inline: int) -> tuple[int, list[bytes]]:
    """The inline command whose line starts at ``pos``: (where the next frame starts, its words).

    ``(-1, [])`` while the line has no end yet. Both implementations call this (the C scanner
    hands an inline line back to Python), so inline parsing is one piece of code.
    """
    nl = src.find(b"\n", pos)
    if nl < 0:
        if len(src) - pos > max_inline:
            raise ProtocolError("too big inline request")
        return -1, []
    if nl - pos > max_inline:
        raise ProtocolError("too big inline request")
    stop = nl - 1 if nl > pos and src[nl - 1] == 13 else nl  # drop a '\r' before the '\n'
    return nl + 1, split_inline(src[pos:stop])


class PyRequestScanner:
    """Scans client bytes into :class:`Command` objects, buffering an incomplete last frame."""

    __slots__ = (
        "_buf",
        "_fast_limit",
        "_need",
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
        self._buf = bytearray()  # the incomplete frame, from its first byte
        self._need = 0  # bytes it needs before scanning it again can progress (0: unknown)
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

    def feed(self, data: bytes) -> tuple[bytes, list[PyCommand]]:
        """Scan ``data`` after what was buffered; returns the scanned bytes and the commands.

        Each command's ``start``/``end`` index into the returned bytes. On malformed input or a
        limit exceeded, the commands before the bad frame are still returned (Redis runs them
        too) and :attr:`error` is set; the connection is then done.
        """
        commands: list[PyCommand] = []
        if self.error is not None:
            return b"", commands
        if data.__class__ is not bytes:
            data = bytes(data)
        buf = self._buf
        if buf:
            total = len(buf) + len(data)
            if total < self._need and total <= self.max_query:  # still inside a bulk payload
                buf += data
                return b"", commands
            src = bytes(buf) + data
        else:
            if data[:1] == b"*" and len(data) <= self._fast_limit:
                fast = self._fast(data)
                if fast is not None:
                    return data, fast
            src = data
        try:
            pos, need = self._scan(src, commands)
            rest = len(src) - pos
            if rest > self.max_query:
                raise ProtocolError("query buffer limit exceeded")
        except ProtocolError as exc:
            self.error = exc
            self._buf = bytearray()
            self._need = 0
            return src, commands
        self._buf = bytearray(memoryview(src)[pos:]) if rest else bytearray()
        self._need = need if rest else 0
        return src, commands

    def _fast(self, data: bytes) -> list[PyCommand] | None:
        """Parse a buffer of whole, canonically encoded multibulk commands with hiredis.

        Returns None (and the Python scanner takes the buffer) unless every frame is a complete
        array of bulk strings whose canonical encoding accounts for every byte: then each
        command's offsets are exact without looking at the bytes again.
        """
        reader = self._reader
        reader.feed(data)
        commands: list[PyCommand] = []
        digits = _DIGITS
        max_multibulk = self.max_multibulk
        pos = 0
        try:
            while (item := reader.gets()) is not False:
                if item.__class__ is not list or not item or len(item) > max_multibulk:
                    raise TypeError
                size = digits[len(item)] + 3
                for arg in item:
                    if arg.__class__ is not bytes:
                        raise TypeError
                    n = len(arg)
                    size += digits[n] + n + 5
                commands.append(PyCommand(item, pos, pos + size))
                pos += size
        except (hiredis.ProtocolError, TypeError, IndexError):
            self._reader = hiredis.Reader()
            return None
        if pos != len(data) or reader.has_data():
            self._reader = hiredis.Reader()
            return None
        return commands

    def _scan(self, src: bytes, commands: list[PyCommand]) -> tuple[int, int]:
        """Scan ``src`` from its start, appending to ``commands``.

        Returns where the unscanned bytes begin and, when the last frame stops inside a bulk
        payload, how many bytes that frame needs (else 0).
        """
        end = len(src)
        append = commands.append
        find = src.find
        pos = 0
        max_bulk = self.max_bulk
        while pos < end:
            start = pos
            if src[pos] != 42:  # not '*': an inline command
                nxt, words = _scan_inline(src, pos, self.max_inline)
                if nxt < 0:
                    break
                if words:
                    append(PyCommand(words, start, -1))
                pos = nxt
                continue
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
                if stop + 2 > end:  # the payload and its CRLF are not all here
                    return start, stop + 2 - start
                args.append(src[pos:stop])
                pos = stop + 2
            else:
                append(PyCommand(args, start, pos))
                continue
            return start, 0  # incomplete: keep the frame buffered
        return pos, 0


_SIMPLE = frozenset(b"+-:_#,(")
_BLOB = frozenset(b"$!=")
_AGGREGATE = frozenset(b"*~>")


def _reply_int(src: bytes, start: int, stop: int) -> int:
    """A length or count in a reply header; ProtocolError unless :func:`_header_int` takes it."""
    try:
        return _header_int(src, start, stop)
    except ValueError:
        raise ProtocolError(f"invalid length {src[start:stop]!r} from upstream") from None


class PyReplyScanner:
    """Finds complete replies in an upstream's stream; an incomplete one stays buffered.

    :meth:`feed` returns the bytes scanned and the end offset of each complete top-level frame in
    them, in order; a push frame (``>``, out-of-band in RESP3) has its end offset negated.
    Bytes after the last complete frame are kept for the next call.
    """

    __slots__ = ("_buf", "_need", "pushes")

    def __init__(self) -> None:
        self._buf = bytearray()  # the incomplete reply, from its first byte
        self._need = 0  # bytes it needs before scanning it again can progress (0: unknown)
        self.pushes = 0  # push frames found by the last feed()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        self._buf = bytearray()
        self._need = 0

    def feed(self, data: bytes) -> tuple[bytes, list[int]]:
        self.pushes = 0
        if data.__class__ is not bytes:
            data = bytes(data)
        buf = self._buf
        if buf:
            if len(buf) + len(data) < self._need:  # still inside a bulk payload
                buf += data
                return b"", []
            src = bytes(buf) + data
        else:
            src = data
        end = len(src)
        ends: list[int] = []
        pos = 0
        need = 0
        find = src.find
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
                length = _reply_int(src, pos + 1, nl)
                stop = nl + 2 if length < 0 else nl + 4 + length
                if stop > end:
                    need = stop - pos
                    break
                pos = stop
                ends.append(pos)
                continue
            stop = _scan_value(src, pos, end)
            if stop <= 0:
                need = -stop - pos if stop < 0 else 0
                break
            if t == 62:
                self.pushes += 1
                ends.append(-stop)
            else:
                ends.append(stop)
            pos = stop
        self._buf = bytearray(memoryview(src)[pos:]) if pos < end else bytearray()
        self._need = need if pos < end else 0
        return src, ends


def _scan_value(src: bytes, pos: int, end: int) -> int:
    """End offset of the (possibly nested) value starting at ``pos``.

    While it is incomplete: 0, or minus the offset ``src`` must reach when a blob is cut short.
    """
    find = src.find
    needed = [1]  # values still needed at each open aggregate level
    while True:
        if pos >= end:
            return 0
        t = src[pos]
        nl = find(_CRLF, pos + 1)
        if nl < 0:
            return 0
        if t in _SIMPLE:
            pos = nl + 2
        elif t in _BLOB:
            length = _reply_int(src, pos + 1, nl)
            pos = nl + 2 if length < 0 else nl + 4 + length
            if pos > end:
                return -pos
        elif t in _AGGREGATE or t == 37 or t == 124:  # '%' map, '|' attribute
            count = _reply_int(src, pos + 1, nl)
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
