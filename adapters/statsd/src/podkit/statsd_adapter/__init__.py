"""podkit-statsd-adapter: StatsD in, Prometheus out, compatible with statsd_exporter.

Embed it (``async with StatsdAdapter(StatsdSettings(...)) as adapter: ...``) or run the
``podkit-statsd-adapter`` command, which takes statsd_exporter's flags and mapping YAML. The
names below are imported on first use, so ``import podkit.statsd_adapter`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podkit.core.exports import lazy_exports

__version__ = "0.1.0"

__all__ = ["MapperConfigError", "MetricMapper", "StatsdAdapter", "StatsdSettings", "__version__"]

if TYPE_CHECKING:
    from podkit.statsd_adapter.mapper import MapperConfigError, MetricMapper
    from podkit.statsd_adapter.service import StatsdAdapter
    from podkit.statsd_adapter.settings import StatsdSettings

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "MapperConfigError": "mapper",
        "MetricMapper": "mapper",
        "StatsdAdapter": "service",
        "StatsdSettings": "settings",
    },
)
