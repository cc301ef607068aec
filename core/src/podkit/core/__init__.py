"""podkit-core: what every podkit component shares.

Settings declared once and filled from flags, env vars and a YAML file (:mod:`.settings`,
:mod:`.values`, :mod:`.flags`); the admin HTTP server with health, readiness and Prometheus metrics
(:mod:`.admin`, :mod:`.health`); structured, redacted logging (:mod:`.logs`, :mod:`.redact`); and the
service lifecycle with graceful shutdown (:mod:`.service`, :mod:`.lifecycle`).
"""

from podkit.core.admin import AdminServer, metrics_response
from podkit.core.health import Health, Verdict
from podkit.core.lifecycle import main, run
from podkit.core.logs import Logger, configure_logging, get_logger, one_line
from podkit.core.redact import REDACTOR, redact
from podkit.core.service import Service, ServiceSettings
from podkit.core.settings import Setting, Settings, SettingsError, setting
from podkit.core.values import HostPort, Parser

__version__ = "0.1.0"

__all__ = [
    "REDACTOR",
    "AdminServer",
    "Health",
    "HostPort",
    "Logger",
    "Parser",
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
