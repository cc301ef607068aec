"""podkit's tests/demo."""
