"""podkit-log-streamer: follows an app's log files through rotation and ships every line once.

The package exports the service, its settings and the record type lazily (PEP 562), so
``import podkit.log_streamer`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["LogStreamer", "LogStreamerSettings", "Record", "__version__"]

if TYPE_CHECKING:
    from podkit.log_streamer.records import Record
    from podkit.log_streamer.service import LogStreamer
    from podkit.log_streamer.settings import LogStreamerSettings

_LAZY = {
    "LogStreamer": "podkit.log_streamer.service",
    "LogStreamerSettings": "podkit.log_streamer.settings",
    "Record": "podkit.log_streamer.records",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
