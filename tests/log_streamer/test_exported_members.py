"""podkit.log_streamer's public surface: everything in ``__all__`` resolves, nothing else is
public, and importing the package stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import podkit.log_streamer


def test_all_exports_resolve_and_are_the_public_names() -> None:
    exported = set(podkit.log_streamer.__all__)
    assert exported == {"__version__", "LogStreamer", "LogStreamerSettings", "Record"}
    for name in exported:
        assert getattr(podkit.log_streamer, name) is not None, name
    public = {name for name in dir(podkit.log_streamer) if not name.startswith("_")}
    assert public == exported - {"__version__"}
    assert podkit.log_streamer.LogStreamer.settings_class is podkit.log_streamer.LogStreamerSettings


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Nope"):
        podkit.log_streamer.Nope  # type: ignore[attr-defined]  # noqa: B018


def test_importing_the_package_loads_no_service_or_server() -> None:
    code = (
        "import sys, podkit.log_streamer; "
        "print(sorted(m for m in ('aiohttp', 'podkit.log_streamer.service', 'sqlite3') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
