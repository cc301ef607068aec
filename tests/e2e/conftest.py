"""Fixtures of tests/e2e: one real Prometheus for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.prometheus import Prometheus


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path_factory.mktemp("prometheus"))
    try:
        yield server
    finally:
        server.stop()
