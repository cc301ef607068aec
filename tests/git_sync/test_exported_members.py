"""podkit.git_sync's public surface, and what importing it (or asking the version) loads."""

from __future__ import annotations

import json
import subprocess
import sys

import podkit.git_sync
from tests.support.exports import check_public_surface

HEAVY = ("aiohttp", "yaml", "prometheus_client", "cryptography", "ctypes")


def test_all_exports_resolve_and_are_the_public_names() -> None:
    check_public_surface(
        podkit.git_sync,
        "podkit-git-sync",
        {"Credential", "GitSync", "GitSyncSettings"},
        service="GitSync",
    )


def _loaded(code: str) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_the_package_and_the_version_load_nothing_heavy() -> None:
    assert _loaded("import podkit.git_sync") == []
    version = (
        "import sys\nsys.argv = ['x', '--version']\nfrom podkit.git_sync.cli import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass"
    )
    assert _loaded(version) == []


def test_the_service_loads_no_yaml_and_no_cryptography_unless_asked() -> None:
    loaded = _loaded("import podkit.git_sync.service")
    assert "yaml" not in loaded and "cryptography" not in loaded and "ctypes" not in loaded


def test_a_sync_that_serves_nothing_loads_no_http_server_and_no_prometheus_client() -> None:
    # building the service as a default run does: no --http-bind, so no /metrics to serve
    default = (
        "from podkit.git_sync.service import GitSync\n"
        "from podkit.git_sync.settings import GitSyncSettings\n"
        "s = GitSync(GitSyncSettings(repo='file:///nowhere', root='/tmp/nowhere'))\n"
        "s.metrics.sync_done('success', 0.5)\n"
        "s.metrics.fetch_count.inc()"
    )
    assert _loaded(default) == []
    served = "from podkit.core.values import HostPort\n" + default.replace(
        "root='/tmp/nowhere'",
        "root='/tmp/nowhere', admin_listen=HostPort('127.0.0.1', 0), http_metrics=True",
    )
    assert "prometheus_client" in _loaded(served)
