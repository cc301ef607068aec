"""Fixtures: a shared master with two replicas, a cluster of a test's own, the ambassador."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_ambassador.support import Ambassador, Cluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A master and two replicas shared by the tests that do not break them."""
    servers = Cluster(tmp_path_factory.mktemp("redis"))
    yield servers
    servers.stop()


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A master and two replicas for one test that breaks them."""
    servers = Cluster(tmp_path / "redis")
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def ambassador(cluster: Cluster) -> Iterator[Ambassador]:
    """The ambassador in front of the shared cluster, default settings."""
    amb = Ambassador(cluster)
    yield amb
    amb.stop()
