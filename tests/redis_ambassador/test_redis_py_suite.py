"""redis-py's own test suite through the ambassador, beside the same suite against the master.

The suite ships in redis-py's source distribution: the one of the redis-py version installed here
is fetched from PyPI once with ``pip download`` (cached under ``~/.cache/podkit``) into a virtualenv of its own. Its
command, pipeline, pub/sub, scripting, function, lock, encoding, MONITOR and connection tests run
twice against a real master with two replicas: once against the master directly, once through
the ambassador (default settings: session consistency, shared connections). A test may fail
through the ambassador only when it also fails against the master directly (the Redis here is
older than what some tests expect, some need a cluster or a fixed port) or when it is listed in
:data:`TOPOLOGY`, with the reason a replica topology cannot hide. A test that fails only through
the ambassador is run again on both sides before it counts, so a flaky test does not fail this.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import redis

from tests.redis_ambassador.support import Ambassador, Cluster

FILES = [
    "tests/test_commands.py",
    "tests/test_pipeline.py",
    "tests/test_pubsub.py",
    "tests/test_scripting.py",
    "tests/test_function.py",
    "tests/test_lock.py",
    "tests/test_encoding.py",
    "tests/test_monitor.py",
    "tests/test_connection.py",
]
# what the suite's conftest and these files import
DEPENDENCIES = [
    "pytest",
    "pytest-asyncio",
    "pytest-timeout",
    "packaging",
    "numpy",
    "ujson",
    "redis-entraid",
    "pybreaker",
    "aiohttp",
    "xxhash",
]
# tests that fail through the ambassador, and not against the master, because of the topology
TOPOLOGY: dict[str, str] = {}
_OUTCOME = re.compile(r"^(FAILED|ERROR) (\S+)")


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "podkit" / f"redis-py-{redis.__version__}"


def prepare() -> tuple[Path, Path]:
    """redis-py's source tree and a Python with the suite's dependencies (cached)."""
    root = cache_dir()
    source = root / f"redis-{redis.__version__}"
    python = root / "venv" / "bin" / "python"
    if source.is_dir() and python.exists():
        return source, python
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH: it installs redis-py's test dependencies (make test)")
    root.mkdir(parents=True, exist_ok=True)
    download = subprocess.run(
        [uv, "tool", "run", "pip", "download", f"redis=={redis.__version__}", "--no-binary",
         ":all:", "--no-deps", "--quiet", "-d", str(root)],
        capture_output=True, text=True,
    )  # fmt: skip
    archives = sorted(root.glob("redis-*.tar.gz"))
    if download.returncode or not archives:
        pytest.fail(f"cannot fetch redis-py {redis.__version__}'s sdist: {download.stderr[-500:]}")
    archive = archives[0]
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    subprocess.run([uv, "venv", "-q", str(root / "venv")], check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), str(source), *DEPENDENCIES],
        check=True,
    )
    return source, python


def run_suite(source: Path, python: Path, port: int, tests: list[str]) -> tuple[set[str], int]:
    """The ids of the failing tests, and how many passed."""
    out = subprocess.run(
        [str(python), "-m", "pytest", *tests, "-q", "-rfE", "-p", "no:cacheprovider",
         f"--redis-url=redis://127.0.0.1:{port}", "--timeout=30", "-o", "addopts=",
         "-o", "log_cli=false", "-W", "ignore"],
        cwd=source, capture_output=True, text=True, timeout=1200,
    ).stdout  # fmt: skip
    failed = {m.group(2) for line in out.splitlines() if (m := _OUTCOME.match(line))}
    passed = re.search(r"(\d+) passed", out)
    return failed, int(passed.group(1)) if passed else 0


@pytest.mark.timeout(2400)  # two runs of a large suite (and, the first time, installing it)
def test_redis_py_suite_through_the_ambassador(tmp_path: Path) -> None:
    source, python = prepare()
    cluster = Cluster(tmp_path / "redis")
    amb = Ambassador(cluster)
    try:
        direct, direct_passed = run_suite(source, python, cluster.master.port, FILES)
        through, through_passed = run_suite(source, python, amb.port, FILES)
        assert direct_passed > 500 and through_passed > 500, (direct_passed, through_passed)
        suspects = sorted(through - direct - set(TOPOLOGY))
        if suspects:  # once more on both sides: a flaky test is not the ambassador's
            again_direct, _ = run_suite(source, python, cluster.master.port, suspects)
            again, _ = run_suite(source, python, amb.port, suspects)
            suspects = sorted(again - again_direct)
        assert suspects == [], f"fail only through the ambassador: {suspects}"
        print(
            f"redis-py {redis.__version__}: {through_passed} passed through the ambassador, "
            f"{direct_passed} directly; failing on both: {len(direct & through)}",
            file=sys.stderr,
        )
    finally:
        amb.stop()
        cluster.stop()
