"""podkit's tests/statsd_adapter."""
