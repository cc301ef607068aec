"""podkit.kit's public surface: everything in ``__all__`` resolves, nothing else is public, and
importing the package stays cheap."""

from __future__ import annotations

import subprocess
import sys

import podkit.kit
from tests.support.exports import check_public_surface


def test_all_exports_resolve_and_are_the_public_names() -> None:
    check_public_surface(podkit.kit, "podkit", {"Options", "inject_stream"})


def test_importing_the_package_loads_no_yaml_or_injection() -> None:
    code = (
        "import sys, podkit.kit; "
        "print(sorted(m for m in ('yaml', 'podkit.kit.inject') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
