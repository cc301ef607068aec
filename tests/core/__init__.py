"""podkit's tests/core."""
