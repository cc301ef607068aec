"""podkit-statsd-adapter: StatsD in, Prometheus out, compatible with statsd_exporter.

Embed it (``async with StatsdAdapter(StatsdSettings(...)) as adapter: ...``) or run the
``podkit-statsd-adapter`` command, which takes statsd_exporter's flags and mapping YAML. The
names below are imported on first use, so ``import podkit.statsd_adapter`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from podkit.statsd_adapter.mapper import MapperConfigError, MetricMapper
    from podkit.statsd_adapter.service import StatsdAdapter
    from podkit.statsd_adapter.settings import StatsdSettings

__all__ = ["MapperConfigError", "MetricMapper", "StatsdAdapter", "StatsdSettings", "__version__"]

_LAZY = {
    "MapperConfigError": "podkit.statsd_adapter.mapper",
    "MetricMapper": "podkit.statsd_adapter.mapper",
    "StatsdAdapter": "podkit.statsd_adapter.service",
    "StatsdSettings": "podkit.statsd_adapter.settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
