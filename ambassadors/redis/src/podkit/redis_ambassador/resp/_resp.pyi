"""Type stub of the C extension built from ``_resp.c``: the scanners' hot loops (see scanner.py)."""

from collections.abc import Callable

class Command:
    args: list[bytes]
    name: bytes
    start: int
    end: int
    def __init__(self, args: list[bytes], start: int, end: int) -> None: ...

class RequestScanner:
    error: Exception | None
    max_bulk: int
    max_multibulk: int
    max_inline: int
    max_query: int
    def __init__(
        self,
        *,
        max_bulk: int = ...,
        max_multibulk: int = ...,
        max_inline: int = ...,
        max_query: int = ...,
    ) -> None: ...
    @property
    def buffered(self) -> int: ...
    def feed(self, data: bytes) -> tuple[bytes, list[Command]]: ...

class ReplyScanner:
    pushes: int
    def __init__(self) -> None: ...
    @property
    def buffered(self) -> int: ...
    def reset(self) -> None: ...
    def feed(self, data: bytes) -> tuple[bytes, list[int]]: ...

def setup(
    protocol_error: type[Exception],
    scan_inline: Callable[[bytes, int, int], tuple[int, list[bytes]]],
    /,
) -> None: ...
def header_int(raw: bytes, /) -> int | None: ...
