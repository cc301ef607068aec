"""The public surface of a podkit package, checked the same way for every package (as httpx does).

Everything in ``__all__`` resolves, ``dir()`` shows exactly ``__all__`` (no submodules, no import
helpers), the package's ``__version__`` is its distribution's version, and the service class says
the same version.
"""

from __future__ import annotations

from importlib.metadata import version
from types import ModuleType


def check_public_surface(
    package: ModuleType, distribution: str, expected: set[str], service: str | None = None
) -> None:
    assert set(package.__all__) == expected | {"__version__"}
    for name in expected:
        assert getattr(package, name) is not None, name
    assert {name for name in dir(package) if not name.startswith("_")} == expected
    assert package.__version__ == version(distribution)
    if service is not None:
        assert getattr(package, service).version == package.__version__
