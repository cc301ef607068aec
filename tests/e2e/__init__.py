"""podkit's tests/e2e."""
