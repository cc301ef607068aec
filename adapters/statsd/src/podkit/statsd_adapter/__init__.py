"""podkit-statsd-adapter: StatsD in, Prometheus out, compatible with statsd_exporter."""
