"""podkit.jmx_adapter's public surface: everything in ``__all__`` resolves, nothing else is public,
and importing the package loads none of its stages."""

from __future__ import annotations

import subprocess
import sys

import podkit.jmx_adapter
from tests.support.exports import check_public_surface


def test_all_exports_resolve_and_are_the_public_names() -> None:
    check_public_surface(
        podkit.jmx_adapter,
        "podkit-jmx-adapter",
        {"JmxAdapter", "JmxSettings", "ScrapeResult"},
        service="JmxAdapter",
    )


def test_importing_the_package_loads_no_stage() -> None:
    code = (
        "import sys, podkit.jmx_adapter; "
        "print(sorted(m for m in sys.modules if m.startswith('podkit.jmx_adapter.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
