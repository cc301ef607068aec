"""The StatsD adapter's settings: statsd_exporter's flag names, podkit's env vars and extensions.

Every statsd_exporter flag that means something here keeps its name and default (``--statsd.*``,
``--web.*``, ``--check-config``, the ``--no-`` forms of the tag switches); env vars are
``STATSD_ADAPTER_<NAME>``. Defaults that differ on purpose: the StatsD listeners bind loopback
(``127.0.0.1:9125``) because in a pod the app sends to localhost; the queue flags are accepted
for compatibility only (events are handled as each packet is read; the socket buffer,
``--statsd.read-buffer``, is the queue); ``--statsd.max-series`` caps the series by default.
"""

from __future__ import annotations

from typing import Any

from podkit.core import HostPort, ServiceSettings, SettingsError, setting
from podkit.core import values as v
from podkit.statsd_adapter.line import DEFAULT_MAX_OBSERVER_REPEAT
from podkit.statsd_adapter.listener import DEFAULT_TCP_BUFFER
from podkit.statsd_adapter.mapper.cache import CACHE_TYPES
from podkit.statsd_adapter.registry import DEFAULT_MAX_SERIES

__all__ = ["StatsdSettings"]

_ADDRESS = v.optional(v.HOST_PORT)
_LOG_FORMAT = v.choice("auto", "json", "text")
_LOG_LEVEL = v.choice("debug", "info", "warning", "error")


def _octal_mode(raw: Any) -> int:
    text = v.parse_str(raw).strip()
    if not text or any(ch not in "01234567" for ch in text):
        raise ValueError(f"{raw!r} is not an octal file mode")
    return int(text, 8)


_MODE = v.Parser(_octal_mode, "an octal file mode such as 755", lambda m: f"{m:o}", "MODE")


class StatsdSettings(ServiceSettings):
    """Settings of :class:`~podkit.statsd_adapter.service.StatsdAdapter`."""

    env_prefix = "STATSD_ADAPTER_"
    setting_overrides = {
        "admin_listen": {
            "default": HostPort("", 9102),
            "flag": "--web.listen-address",
            "aliases": ("--admin-listen",),
            "help": "address for /metrics, /healthz, /readyz and the lifecycle endpoints; "
            "empty turns the web server off",
        },
        "log_level": {
            "flag": "--log.level",
            "aliases": ("--log-level",),
            "parser": v.Parser(
                lambda raw: "warning" if str(raw).lower() == "warn" else _LOG_LEVEL(raw),
                "one of debug, info, warn, warning, error",
                metavar="{debug,info,warn,error}",
            ),
        },
        "log_format": {
            "flag": "--log.format",
            "aliases": ("--log-format",),
            "parser": v.Parser(
                lambda raw: "text" if str(raw).lower() == "logfmt" else _LOG_FORMAT(raw),
                "one of auto, json, text (logfmt means text)",
                metavar="{auto,json,text,logfmt}",
            ),
        },
    }

    listen_udp: HostPort | None = setting(
        default=HostPort("127.0.0.1", 9125),
        parse=_ADDRESS,
        flag="--statsd.listen-udp",
        help="UDP address to receive StatsD on; empty turns UDP off",
        group="statsd",
    )
    listen_tcp: HostPort | None = setting(
        default=HostPort("127.0.0.1", 9125),
        parse=_ADDRESS,
        flag="--statsd.listen-tcp",
        help="TCP address to receive StatsD on; empty turns TCP off",
        group="statsd",
    )
    listen_unixgram: str = setting(
        default="",
        flag="--statsd.listen-unixgram",
        metavar="PATH",
        help="Unix datagram socket path to receive StatsD on; empty turns it off",
        group="statsd",
    )
    unixsocket_mode: int = setting(
        default=0o755,
        parse=_MODE,
        flag="--statsd.unixsocket-mode",
        help="permission mode of the Unix datagram socket",
        group="statsd",
    )
    read_buffer: int = setting(
        default=0,
        parse=v.SIZE,
        flag="--statsd.read-buffer",
        help="size of the kernel receive buffer of the UDP and Unix sockets (0: the system's)",
        group="statsd",
    )
    tcp_max_line: int = setting(
        default=DEFAULT_TCP_BUFFER,
        parse=v.SIZE,
        flag="--statsd.tcp-max-line-length",
        help="TCP read buffer per connection, as statsd_exporter's: a line that does not fit in it "
        "with its newline is counted as too long and closes that connection",
        group="statsd",
    )
    mapping_config: str = setting(
        default="",
        flag="--statsd.mapping-config",
        metavar="FILE",
        help="statsd_exporter mapping YAML; reloaded on SIGHUP and on POST /-/reload",
        group="mapping",
    )
    cache_size: int = setting(
        default=1000,
        flag="--statsd.cache-size",
        help="mapping look-ups kept in the cache",
        group="mapping",
    )
    cache_type: str = setting(
        default="lru",
        parse=v.choice(*CACHE_TYPES),
        flag="--statsd.cache-type",
        help="mapping cache eviction: lru, or random (cheaper on hits, for very many names)",
        group="mapping",
    )
    event_queue_size: int = setting(
        default=10000,
        flag="--statsd.event-queue-size",
        help="accepted for statsd_exporter compatibility; events are handled as packets arrive",
        group="statsd",
    )
    udp_packet_queue_size: int = setting(
        default=10000,
        flag="--statsd.udp-packet-queue-size",
        help="accepted for statsd_exporter compatibility; packets are handled as they are read",
        group="statsd",
    )
    event_flush_threshold: int = setting(
        default=1000,
        flag="--statsd.event-flush-threshold",
        help="accepted for statsd_exporter compatibility",
        group="statsd",
    )
    event_flush_interval: float = setting(
        default=0.2,
        parse=v.DURATION,
        flag="--statsd.event-flush-interval",
        help="accepted for statsd_exporter compatibility",
        group="statsd",
    )
    parse_dogstatsd_tags: bool = setting(
        default=True,
        flag="--statsd.parse-dogstatsd-tags",
        negatable=True,
        help="parse DogStatsD tags (|#k:v)",
        group="statsd",
    )
    parse_influxdb_tags: bool = setting(
        default=True,
        flag="--statsd.parse-influxdb-tags",
        negatable=True,
        help="parse InfluxDB tags (name,k=v)",
        group="statsd",
    )
    parse_librato_tags: bool = setting(
        default=True,
        flag="--statsd.parse-librato-tags",
        negatable=True,
        help="parse Librato tags (name#k=v)",
        group="statsd",
    )
    parse_signalfx_tags: bool = setting(
        default=True,
        flag="--statsd.parse-signalfx-tags",
        negatable=True,
        help="parse SignalFX tags (na[k=v]me)",
        group="statsd",
    )
    parse_sets: bool = setting(
        default=True,
        flag="--statsd.parse-sets",
        negatable=True,
        help="accept StatsD sets (|s) as gauges of distinct members (statsd_exporter rejects them)",
        group="statsd",
    )
    set_window: float = setting(
        default=60.0,
        parse=v.non_negative(v.DURATION),
        flag="--statsd.set-window",
        help="a set's gauge counts the distinct members seen within this window",
        group="series",
    )
    set_max_members: int = setting(
        default=10000,
        flag="--statsd.set-max-members",
        help="distinct members remembered per set series; more are counted and dropped",
        group="series",
    )
    max_series: int = setting(
        default=DEFAULT_MAX_SERIES,
        flag="--statsd.max-series",
        help="most series kept at once (0: no limit); past it new series are dropped, counted "
        "and logged once while existing ones keep updating",
        group="series",
    )
    max_observer_repeat: int = setting(
        default=DEFAULT_MAX_OBSERVER_REPEAT,
        flag="--statsd.max-sample-repeat",
        help="most observations one sampled timer line may stand for (int(1/rate), so @0.0001 "
        "is 10000)",
        group="series",
    )
    relay_address: HostPort | None = setting(
        default=None,
        parse=_ADDRESS,
        flag="--statsd.relay.address",
        help="StatsD UDP address to relay every received line to",
        group="relay",
    )
    relay_packet_length: int = setting(
        default=1400,
        parse=v.SIZE,
        flag="--statsd.relay.packet-length",
        help="largest relayed UDP packet",
        group="relay",
    )
    telemetry_path: str = setting(
        default="/metrics",
        flag="--web.telemetry-path",
        metavar="PATH",
        help="path of the metrics endpoint",
        group="web",
    )
    enable_lifecycle: bool = setting(
        default=False,
        flag="--web.enable-lifecycle",
        help="serve PUT/POST /-/reload and /-/quit",
        group="web",
    )
    web_config_file: str = setting(
        default="",
        flag="--web.config.file",
        metavar="FILE",
        help="statsd_exporter's TLS/basic-auth web config; not supported: only empty is accepted",
        group="web",
        hidden=True,
    )
    web_systemd_socket: bool = setting(
        default=False,
        flag="--web.systemd-socket",
        help="statsd_exporter's systemd socket activation; not supported",
        group="web",
        hidden=True,
    )
    check_config: bool = setting(
        default=False,
        flag="--check-config",
        help="check the mapping file, print the verdict and exit (0 valid, 1 invalid)",
        group="mapping",
    )
    dump_fsm: str = setting(
        default="",
        flag="--debug.dump-fsm",
        metavar="FILE",
        help="accepted for compatibility; podkit's glob matcher has no FSM to dump",
        group="mapping",
        hidden=True,
    )

    def check(self) -> None:
        if not self.telemetry_path.startswith("/"):
            raise SettingsError(
                f"--web.telemetry-path must start with '/', got {self.telemetry_path!r}"
            )
        for name in ("cache_size", "max_series", "set_max_members", "tcp_max_line"):
            if getattr(self, name) < 0:
                decl = self.declarations()[name]
                raise SettingsError(f"{decl.describe()} must not be negative")
        if self.relay_packet_length < 64:
            raise SettingsError("--statsd.relay.packet-length must be at least 64 bytes")
        if self.tcp_max_line < 16:
            raise SettingsError("--statsd.tcp-max-line-length must be at least 16 bytes")
        if self.max_observer_repeat < 1:
            raise SettingsError("--statsd.max-sample-repeat must be at least 1")
        if self.web_config_file:
            raise SettingsError(
                "--web.config.file (TLS and basic auth) is not supported; terminate TLS in front "
                "of the adapter or leave the flag out"
            )
        if self.web_systemd_socket:
            raise SettingsError("--web.systemd-socket is not supported; use --web.listen-address")
