"""podkit's tests/shipping: the documented install paths, run as written in clean environments."""
