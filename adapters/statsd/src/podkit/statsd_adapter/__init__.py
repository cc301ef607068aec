"""podkit-statsd-adapter: StatsD in, Prometheus out, compatible with statsd_exporter."""

__version__ = "0.1.0"
