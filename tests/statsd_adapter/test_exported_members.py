"""The package exports exactly ``__all__``, each name resolves, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import podkit.statsd_adapter as package


def test_all_exports_resolve_and_nothing_else_is_public() -> None:
    exported = set(package.__all__)
    assert exported == {
        "MapperConfigError",
        "MetricMapper",
        "StatsdAdapter",
        "StatsdSettings",
        "__version__",
    }
    for name in exported:
        assert getattr(package, name) is not None
    public = {name for name in dir(package) if not name.startswith("_")}
    assert public <= exported
    assert package.StatsdAdapter.settings_class is package.StatsdSettings
    assert package.StatsdAdapter.version == package.__version__


def test_import_is_lazy() -> None:
    code = (
        "import sys, podkit.statsd_adapter as p; "
        "assert 'podkit.statsd_adapter.service' not in sys.modules; "
        "assert 'aiohttp' not in sys.modules; p.StatsdAdapter; "
        "assert 'podkit.statsd_adapter.service' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
