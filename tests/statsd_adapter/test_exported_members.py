"""The package exports exactly ``__all__``, each name resolves, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import podkit.statsd_adapter as package
from tests.support.exports import check_public_surface


def test_all_exports_resolve_and_nothing_else_is_public() -> None:
    check_public_surface(
        package,
        "podkit-statsd-adapter",
        {"MapperConfigError", "MetricMapper", "StatsdAdapter", "StatsdSettings"},
        service="StatsdAdapter",
    )
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
