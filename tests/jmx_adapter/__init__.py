"""podkit's tests/jmx_adapter."""
