"""podkit.redis_ambassador's public surface: everything in ``__all__`` resolves, nothing else is
public, and importing the package loads neither the service nor its servers' libraries."""

from __future__ import annotations

import subprocess
import sys

import podkit.redis_ambassador


def test_all_exports_resolve_and_are_the_public_names() -> None:
    package = podkit.redis_ambassador
    exported = set(package.__all__)
    assert exported == {"RedisAmbassador", "RedisAmbassadorSettings", "__version__"}
    for name in exported:
        assert getattr(package, name) is not None, name
    public = {name for name in dir(package) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(package, name)).__name__ == "module"}
    helpers = {"annotations", "importlib", "Any", "TYPE_CHECKING"}
    assert exported - {"__version__"} == public - modules - helpers
    from podkit.redis_ambassador.service import RedisAmbassador

    assert package.RedisAmbassador is RedisAmbassador
    assert RedisAmbassador.version == package.__version__


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, podkit.redis_ambassador; print(sorted(m for m in ('aiohttp', 'hiredis',"
        " 'podkit.redis_ambassador.service') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
