"""podkit.jmx_adapter's public surface: everything in ``__all__`` resolves, nothing else is public,
and importing the package loads none of its stages."""

from __future__ import annotations

import subprocess
import sys

import podkit.jmx_adapter


def test_all_exports_resolve_and_are_the_public_names() -> None:
    exported = set(podkit.jmx_adapter.__all__)
    for name in exported:
        assert getattr(podkit.jmx_adapter, name) is not None, name
    public = {name for name in dir(podkit.jmx_adapter) if not name.startswith("_")}
    modules = {
        name for name in public if type(getattr(podkit.jmx_adapter, name)).__name__ == "module"
    }
    helpers = {"annotations", "importlib", "Any", "TYPE_CHECKING"}
    assert exported - {"__version__"} == public - modules - helpers
    from podkit.jmx_adapter.service import JmxAdapter

    assert podkit.jmx_adapter.JmxAdapter is JmxAdapter
    assert JmxAdapter.version == podkit.jmx_adapter.__version__


def test_importing_the_package_loads_no_stage() -> None:
    code = (
        "import sys, podkit.jmx_adapter; "
        "print(sorted(m for m in sys.modules if m.startswith('podkit.jmx_adapter.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
