"""podkit's tests/examples."""
