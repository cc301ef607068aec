"""podkit's tests/git_sync."""
