"""podkit-core: what every podkit component shares.

Settings declared once and filled from flags, env vars and a YAML file (:mod:`.declaration`,
:mod:`.settings`, :mod:`.values`, :mod:`.flags`); the admin HTTP server with health, readiness and
Prometheus metrics (:mod:`.admin`, :mod:`.health`); structured, redacted logging (:mod:`.logs`,
:mod:`.redact`); and the service lifecycle with graceful shutdown (:mod:`.service`,
:mod:`.lifecycle`).

The names below are imported when first used, so ``import podkit.core`` (and a component's
start-up) pays only for the parts it touches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# eager, and cheap: the function ``redact`` must win over the submodule of the same name
from podkit.core.exports import lazy_exports
from podkit.core.redact import Redactor, redact

__version__ = "0.1.0"

_EXPORTS = {  # name -> the submodule that defines it
    "AdminServer": "admin",
    "metrics_response": "admin",
    "Health": "health",
    "Verdict": "health",
    "main": "lifecycle",
    "run": "lifecycle",
    "Logger": "logs",
    "configure_logging": "logs",
    "get_logger": "logs",
    "one_line": "logs",
    "Service": "service",
    "ServiceSettings": "service",
    "Setting": "declaration",
    "SettingsError": "declaration",
    "setting": "declaration",
    "Settings": "settings",
    "HostPort": "values",
    "Parser": "values",
}

__all__ = [
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
    "__version__",
    "configure_logging",
    "get_logger",
    "main",
    "metrics_response",
    "one_line",
    "redact",
    "run",
    "setting",
]

if TYPE_CHECKING:
    from podkit.core.admin import AdminServer, metrics_response
    from podkit.core.declaration import Setting, SettingsError, setting
    from podkit.core.health import Health, Verdict
    from podkit.core.lifecycle import main, run
    from podkit.core.logs import Logger, configure_logging, get_logger, one_line
    from podkit.core.service import Service, ServiceSettings
    from podkit.core.settings import Settings
    from podkit.core.values import HostPort, Parser


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
