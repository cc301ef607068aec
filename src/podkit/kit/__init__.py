"""podkit: every podkit component in one install, and the ``podkit`` command (``podkit inject``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "inject_stream"]

if TYPE_CHECKING:
    from podkit.kit.inject import inject_stream


def __getattr__(name: str) -> Any:
    if name == "inject_stream":
        from podkit.kit.inject import inject_stream

        return inject_stream
    raise AttributeError(f"module 'podkit.kit' has no attribute {name!r}")
