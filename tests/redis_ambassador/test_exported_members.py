"""podkit.redis_ambassador's public surface: everything in ``__all__`` resolves, nothing else is
public, and importing the package loads neither the service nor its servers' libraries."""

from __future__ import annotations

import subprocess
import sys

import podkit.redis_ambassador
from tests.support.exports import check_public_surface


def test_all_exports_resolve_and_are_the_public_names() -> None:
    check_public_surface(
        podkit.redis_ambassador,
        "podkit-redis-ambassador",
        {"RedisAmbassador", "RedisAmbassadorSettings"},
        service="RedisAmbassador",
    )


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, podkit.redis_ambassador; print(sorted(m for m in ('aiohttp', 'hiredis',"
        " 'podkit.redis_ambassador.service') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
