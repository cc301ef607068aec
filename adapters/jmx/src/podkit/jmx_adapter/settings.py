"""The JMX adapter's settings: jmx_exporter standalone's command line plus podkit's flags.

``podkit-jmx-adapter [HOST:]PORT CONFIG.yaml`` as in jmx_exporter: the first positional is where
``/metrics`` (and podkit's ``/healthz``, ``/readyz``) is served, the second is the jmx_exporter
YAML. A bare ``PORT`` binds every interface (``0.0.0.0``), like jmx_exporter, because Prometheus
scrapes the pod from outside; give ``127.0.0.1:PORT`` to keep it local. Env vars are
``JMX_ADAPTER_<NAME>``; the JMX password may come from ``JMX_ADAPTER_PASSWORD`` (env only, never
a flag, so it stays out of ``ps``), which wins over the file's ``password``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podkit.core import HostPort, ServiceSettings, SettingsError, setting
from podkit.core import values as v

__all__ = ["JmxSettings"]


def _listen(raw: Any) -> HostPort | None:
    text = v.parse_str(raw).strip()
    if not text:
        return None
    if text.isdigit():  # jmx_exporter's bare PORT: every interface; see the docstring
        text = f"0.0.0.0:{text}"
    return v.parse_host_port(text)


_LISTEN = v.Parser(_listen, "[HOST:]PORT (a bare port listens on 0.0.0.0)", metavar="[HOST:]PORT")


class JmxSettings(ServiceSettings):
    """Settings of :class:`~podkit.jmx_adapter.service.JmxAdapter`."""

    env_prefix = "JMX_ADAPTER_"
    setting_overrides = {
        "admin_listen": {
            "default": None,
            "hidden": True,
            "help": "where /metrics, /healthz and /readyz are served when [HOST:]PORT is not given "
            "(embedding); the positional [HOST:]PORT wins",
        },
    }

    listen: HostPort | None = setting(
        default=None,
        parse=_LISTEN,
        positional=True,
        help="where /metrics, /healthz and /readyz are served; a bare PORT listens on 0.0.0.0",
        group="jmx_exporter",
    )
    config_file: Path = setting(
        positional=True,
        metavar="CONFIG.yaml",
        help="the jmx_exporter YAML config; reloaded when it changes and on SIGHUP",
        group="jmx_exporter",
    )
    backend: str = setting(
        default="persistent",
        parse=v.choice("persistent", "jmxquery", "jolokia"),
        help="how MBeans are read: persistent (one helper JVM kept connected), jmxquery "
        "(a JVM per scrape), jolokia (HTTP)",
        group="scrape",
    )
    scrape_interval: float = setting(
        default=10.0,
        parse=v.non_negative(v.DURATION),
        help="scrape the target this often, /metrics serves the last result; 0 scrapes on "
        "demand when /metrics is asked and the result is older than --scrape-cache",
        metavar="DURATION",
        group="scrape",
    )
    scrape_cache: float = setting(
        default=1.0,
        parse=v.non_negative(v.DURATION),
        help="with --scrape-interval=0, how long one scrape's result answers /metrics",
        metavar="DURATION",
        group="scrape",
    )
    scrape_timeout: float = setting(
        default=10.0,
        parse=v.DURATION,
        help="a scrape taking longer (JMX reads and rule matching) is cut off and counts as "
        "failed (jmx_scrape_error 1, with the reason)",
        metavar="DURATION",
        group="scrape",
    )
    config_poll_interval: float = setting(
        default=2.0,
        parse=v.non_negative(v.DURATION),
        help="how often the config file's modification time is checked; 0 reloads on SIGHUP only",
        metavar="DURATION",
        group="scrape",
    )
    jolokia_url: str = setting(
        default="",
        metavar="URL",
        help="Jolokia agent URL for --backend=jolokia (default: the config's jmxUrl if it is "
        "http(s))",
        group="backends",
    )
    java: str = setting(
        default="java",
        metavar="PATH",
        help="the java command for the helper JVM (the rules, the persistent backend) and jmxquery",
        group="backends",
    )
    java_options: list[str] = setting(
        default=[],
        repeatable=True,
        separator=" ",
        flag="--java-option",
        metavar="OPTION",
        help="an option for the JVMs the adapter starts (the helper, jmxquery's), e.g. "
        "-Djavax.net.ssl.trustStore=/etc/jmx/truststore.jks; repeat the flag for more "
        "(the env var is split on spaces)",
        group="backends",
    )
    helper_cache_dir: str = setting(
        default="",
        metavar="DIR",
        help="where the helper JVM's sources are compiled (default "
        "$XDG_CACHE_HOME/podkit-jmx-adapter)",
        group="backends",
    )
    password: str = setting(
        default="",
        no_flag=True,
        secret=True,
        help="JMX (or Jolokia) password; wins over the config file's password",
        group="backends",
    )
    check_config: bool = setting(
        default=False,
        help="check the config file, print the verdict and exit (0 valid, 1 invalid)",
        group="jmx_exporter",
    )

    def check(self) -> None:
        if self.listen is not None:
            object.__setattr__(self, "admin_listen", self.listen)
        if self.scrape_timeout <= 0:
            raise SettingsError("--scrape-timeout must be positive")
        if self.jolokia_url and not self.jolokia_url.startswith(("http://", "https://")):
            raise SettingsError(f"--jolokia-url must be an http(s) URL, got {self.jolokia_url!r}")
