"""podkit's tests/redis_ambassador."""
