"""The RESP scanners behind one interface, in C with a pure-Python fallback.

A :class:`Scanners` is one implementation: its ``Command``, ``RequestScanner`` and
``ReplyScanner`` classes (see :mod:`.python` for what they do; the C extension ``_resp``, built
from ``_resp.c`` when the package is installed with a compiler, has the same classes with
identical results, limits and errors). Which one a service uses is a setting
(``--resp-scanner``: ``auto`` takes C when it is built, else Python; ``c`` or ``python`` force
one), passed to :meth:`Scanners.load`; nothing is chosen at import. :func:`available` lists the
implementations present, for tests and benchmarks that compare them, and :data:`EXTENSION_ERROR`
says why C is missing and what to install.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podkit.redis_ambassador.resp.python import (
    ProtocolError,
    PyCommand,
    PyReplyScanner,
    PyRequestScanner,
    _scan_inline,
    encode_command,
    split_inline,
)

__all__ = [
    "CHOICES",
    "EXTENSION_ERROR",
    "Command",
    "ProtocolError",
    "Scanners",
    "available",
    "encode_command",
    "split_inline",
]

CHOICES = ("auto", "c", "python")

if TYPE_CHECKING:
    Command = PyCommand  # the C Command has the same attributes
else:
    Command = Any


@dataclass(frozen=True)
class Scanners:
    """One implementation of the scanners: its name and its three classes."""

    name: str
    Command: Any  # the classes; the C and Python ones share their interface, not a base class
    RequestScanner: Any
    ReplyScanner: Any

    @classmethod
    def load(cls, choice: str = "auto") -> Scanners:
        """The implementation ``choice`` names (``auto``: C when built, else Python).

        Raises ValueError when ``c`` is asked for and the extension is not built.
        """
        found = available()
        if choice == "auto":
            return found.get("c", PYTHON)
        if choice not in found:
            raise ValueError(f"RESP scanner {choice!r} is not available: {EXTENSION_ERROR}")
        return found[choice]


PYTHON = Scanners("python", PyCommand, PyRequestScanner, PyReplyScanner)


def _load_extension() -> tuple[Scanners | None, str | None]:
    """The C implementation, set up, or None and why it is missing."""
    try:
        from podkit.redis_ambassador.resp import _resp
    except ImportError as exc:
        return None, (
            f"the C extension podkit.redis_ambassador.resp._resp is not built ({exc}): install a"
            " C compiler and the Python headers (Debian: apt-get install gcc python3-dev), then"
            " reinstall the package (uv sync --reinstall-package podkit-redis-ambassador)"
        )
    _resp.setup(ProtocolError, _scan_inline)
    return Scanners("c", _resp.Command, _resp.RequestScanner, _resp.ReplyScanner), None


_C, EXTENSION_ERROR = _load_extension()  # EXTENSION_ERROR: why C is missing, what to install


def available() -> dict[str, Scanners]:
    """Every implementation present: ``python`` always, ``c`` when the extension is built."""
    found = {"python": PYTHON}
    if _C is not None:
        found["c"] = _C
    return found
