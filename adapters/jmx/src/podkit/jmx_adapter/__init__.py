"""podkit-jmx-adapter: JMX MBeans to Prometheus metrics, with jmx_exporter's rules.

Stages, one module each: :mod:`.config` (the jmx_exporter YAML), :mod:`.backend` (what a
backend returns) with :mod:`.backend_persistent`, :mod:`.backend_jmxquery` and
:mod:`.backend_jolokia`, :mod:`.rules` (matching and naming), :mod:`.scrape` (one scrape with a
timeout), :mod:`.telemetry` (``/metrics`` content) and :mod:`.service` (the podkit service).
"""

__version__ = "0.1.0"
