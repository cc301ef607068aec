"""podkit.core's public surface: everything in ``__all__`` resolves, and nothing else is public."""

from __future__ import annotations

import subprocess
import sys

import podkit.core
from tests.support.exports import check_public_surface


def test_all_exports_resolve_and_are_the_public_names() -> None:
    check_public_surface(
        podkit.core,
        "podkit-core",
        {
            "AdminServer",
            "Health",
            "HostPort",
            "Logger",
            "Parser",
            "Redactor",
            "Service",
            "ServiceSettings",
            "Setting",
            "Settings",
            "SettingsError",
            "Verdict",
            "configure_logging",
            "get_logger",
            "main",
            "metrics_response",
            "one_line",
            "redact",
            "run",
            "setting",
        },
    )
    assert callable(podkit.core.redact)  # the function, not the submodule of the same name
    assert "REDACTOR" not in dir(podkit.core)  # no process-wide redaction state


def test_importing_the_package_loads_no_server_or_yaml() -> None:
    code = "import sys, podkit.core; print(sorted(m for m in ('aiohttp', 'yaml', 'prometheus_client') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_service_with_its_admin_server_off_never_loads_aiohttp() -> None:
    code = (
        "import asyncio, sys\n"
        "from podkit.core import Service, ServiceSettings\n"
        "class S(Service[ServiceSettings]):\n"
        "    settings_class = ServiceSettings\n"
        "async def go():\n"
        "    async with S(ServiceSettings(admin_listen=None)):\n"
        "        pass\n"
        "asyncio.run(go())\n"
        "print('aiohttp' in sys.modules, 'yaml' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
