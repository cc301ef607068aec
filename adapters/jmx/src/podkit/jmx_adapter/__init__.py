"""podkit-jmx-adapter: JMX MBeans to Prometheus metrics, with jmx_exporter's rules.

Stages, one module each: :mod:`.config` (the jmx_exporter YAML) and :mod:`.beanfilter` (its
per-bean keys), :mod:`.backend` (what backends share) with :mod:`.backend_persistent`,
:mod:`.backend_jmxquery` and :mod:`.backend_jolokia`, :mod:`.helper` (the helper JVM),
:mod:`.engine` (jmx_exporter's rules, run in the helper: Java regexes, naming, exposition),
:mod:`.scrape` (one scrape within its deadline), :mod:`.metrics` (self-metrics) and
:mod:`.service` (the podkit service).

For embedding, the package exports the service and settings classes and the scrape result
type; they are imported when first used, so ``import podkit.jmx_adapter`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podkit.core.exports import lazy_exports

__version__ = "0.1.0"

__all__ = ["JmxAdapter", "JmxSettings", "ScrapeResult", "__version__"]

if TYPE_CHECKING:
    from podkit.jmx_adapter.scrape import ScrapeResult
    from podkit.jmx_adapter.service import JmxAdapter
    from podkit.jmx_adapter.settings import JmxSettings

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "JmxAdapter": "service",
        "JmxSettings": "settings",
        "ScrapeResult": "scrape",
    },
)
