"""podkit's tests/kit: the root package podkit and its `podkit inject` command."""
