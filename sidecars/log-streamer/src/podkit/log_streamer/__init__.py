"""podkit-log-streamer: follows an app's log files through rotation and ships every line once.

The package exports the service, its settings and the record type lazily (PEP 562), so
``import podkit.log_streamer`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podkit.core.exports import lazy_exports

__version__ = "0.1.0"

__all__ = ["LogStreamer", "LogStreamerSettings", "Record", "__version__"]

if TYPE_CHECKING:
    from podkit.log_streamer.records import Record
    from podkit.log_streamer.service import LogStreamer
    from podkit.log_streamer.settings import LogStreamerSettings

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "LogStreamer": "service",
        "LogStreamerSettings": "settings",
        "Record": "records",
    },
)
