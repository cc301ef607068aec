"""podkit.log_streamer's public surface: everything in ``__all__`` resolves, nothing else is
public, and importing the package stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import podkit.log_streamer
from tests.support.exports import check_public_surface


def test_all_exports_resolve_and_are_the_public_names() -> None:
    check_public_surface(
        podkit.log_streamer,
        "podkit-log-streamer",
        {"LogStreamer", "LogStreamerSettings", "Record"},
        service="LogStreamer",
    )


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
