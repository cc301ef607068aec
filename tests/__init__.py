"""podkit's tests."""
