"""The Redis ambassador's settings: where to listen, the upstream topology, routing and limits.

Env vars are ``REDIS_AMBASSADOR_<NAME>``. Upstream connections may use TLS (CA, client
certificate and key, SNI). Secrets never come from a flag (a flag's value shows in
``ps``): the upstream password and the local password are read from an env var or a file. The data port
listens on loopback (the app's localhost); the admin server (``/healthz``, ``/readyz``,
``/metrics``) listens on ``:9121``, every interface, IPv4 and IPv6, so the kubelet's probes and
Prometheus reach it on the pod IP.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from podkit.core import HostPort, ServiceSettings, SettingsError, setting
from podkit.core import values as v
from podkit.redis_ambassador.resp import EXTENSION_ERROR, available

__all__ = ["RedisAmbassadorSettings"]

READ_POLICIES = ("master", "prefer-replica", "replica", "any")
REPLICA_CHOICES = ("round-robin", "least-outstanding")
CONSISTENCY = ("session", "eventual")
RESP_SCANNERS = ("auto", "c", "python")


class RedisAmbassadorSettings(ServiceSettings):
    """Settings of :class:`~podkit.redis_ambassador.service.RedisAmbassador`."""

    env_prefix = "REDIS_AMBASSADOR_"
    setting_overrides = {"admin_listen": {"default": HostPort("", 9121)}}

    listen: HostPort = setting(
        default=HostPort("127.0.0.1", 6379),
        parse=v.HOST_PORT,
        help="address the application connects to, as to one Redis",
        group="redis",
    )
    master: HostPort | None = setting(
        default=None,
        parse=v.optional(v.HOST_PORT),
        help="address of the master (static topology)",
        group="topology",
    )
    replica: list[HostPort] = setting(
        default=[],
        parse=v.HOST_PORT,
        repeatable=True,
        metavar="HOST:PORT",
        help="address of a replica",
        group="topology",
    )
    sentinel: list[HostPort] = setting(
        default=[],
        parse=v.HOST_PORT,
        repeatable=True,
        metavar="HOST:PORT",
        help="address of a Sentinel to discover the master and replicas from; "
        "replaces --master and --replica",
        group="topology",
    )
    sentinel_master: str = setting(
        default="",
        help="name of the master the Sentinels watch (needed with --sentinel)",
        group="topology",
    )
    sentinel_username: str = setting(
        default="",
        help="ACL user the ambassador authenticates to the Sentinels as (empty: the default user)",
        group="topology",
    )
    sentinel_password: str = setting(
        default="",
        no_flag=True,
        secret=True,
        help="password of the Sentinels (their requirepass; env var only)",
        group="topology",
    )
    sentinel_password_file: Path | None = setting(
        default=None,
        metavar="FILE",
        help="file holding the Sentinels' password",
        group="topology",
    )
    sentinel_tls: bool = setting(
        default=False,
        help="connect to the Sentinels over TLS, with the --upstream-tls-* CA, certificate, key "
        "and verification settings",
        group="topology",
    )
    read_policy: str = setting(
        default="prefer-replica",
        parse=v.choice(*READ_POLICIES),
        help="where readonly commands go: master, prefer-replica (master when no replica is "
        "healthy), replica (an error when none is healthy), any (master or replicas)",
        group="routing",
    )
    replica_choice: str = setting(
        default="round-robin",
        parse=v.choice(*REPLICA_CHOICES),
        help="how a client connection picks its replica",
        group="routing",
    )
    consistency: str = setting(
        default="session",
        parse=v.choice(*CONSISTENCY),
        help="session: every read sees every write the ambassador acknowledged before it "
        "(replication offsets, no time bound); eventual: reads take any healthy replica",
        group="routing",
    )
    failover_hold: float = setting(
        default=5.0,
        parse=v.non_negative(v.DURATION),
        metavar="DURATION",
        help="while the master is unreachable (restart, Sentinel failover), hold clients' "
        "commands this long for it or its successor before answering with an error",
        group="routing",
    )
    resp_scanner: str = setting(
        default="auto",
        parse=v.choice(*RESP_SCANNERS),
        help="RESP scanner implementation: auto (C when built, else Python), c, python",
        group="limits",
    )
    share_connections: bool = setting(
        default=True,
        negatable=True,
        help="clients in the default state (DB 0, no name, transaction, subscription or "
        "blocking command) share one connection per server and protocol, as twemproxy does; "
        "--no-share-connections gives every client connections of its own from the start",
        group="routing",
    )
    upstream_username: str = setting(
        default="",
        help="ACL user the ambassador authenticates upstream as (empty: the default user)",
        group="upstream",
    )
    upstream_password: str = setting(
        default="",
        no_flag=True,
        secret=True,
        help="password the ambassador authenticates upstream with (env var only)",
        group="upstream",
    )
    upstream_password_file: Path | None = setting(
        default=None,
        metavar="FILE",
        help="file holding the upstream password (trailing newline ignored)",
        group="upstream",
    )
    upstream_tls: bool = setting(
        default=False,
        help="connect to the master and replicas over TLS",
        group="upstream",
    )
    upstream_tls_ca: Path | None = setting(
        default=None,
        metavar="FILE",
        help="CA bundle that verifies the upstreams' certificates (default: the system's)",
        group="upstream",
    )
    upstream_tls_cert: Path | None = setting(
        default=None,
        metavar="FILE",
        help="client certificate for upstreams that require one (tls-auth-clients)",
        group="upstream",
    )
    upstream_tls_key: Path | None = setting(
        default=None,
        metavar="FILE",
        help="private key of --upstream-tls-cert",
        group="upstream",
    )
    upstream_tls_server_name: str = setting(
        default="",
        help="name sent as SNI and verified in the upstream certificate (default: its host)",
        group="upstream",
    )
    upstream_tls_verify: bool = setting(
        default=True,
        negatable=True,
        help="verify the upstream certificate and name (--no-upstream-tls-verify: do not)",
        group="upstream",
    )
    local_password: str = setting(
        default="",
        no_flag=True,
        secret=True,
        help="password clients must send (AUTH/HELLO AUTH) on the local port (env var only)",
        group="redis",
    )
    local_password_file: Path | None = setting(
        default=None,
        metavar="FILE",
        help="file holding the local password",
        group="redis",
    )
    connect_timeout: float = setting(
        default=2.0,
        parse=v.non_negative(v.DURATION),
        metavar="DURATION",
        help="timeout of a connection to an upstream",
        group="upstream",
    )
    health_interval: float = setting(
        default=1.0,
        parse=v.non_negative(v.DURATION),
        metavar="DURATION",
        help="how often the master and replicas are checked (INFO replication)",
        group="upstream",
    )
    health_timeout: float = setting(
        default=1.0,
        parse=v.non_negative(v.DURATION),
        metavar="DURATION",
        help="an upstream that does not answer a check within this is unhealthy",
        group="upstream",
    )
    max_replica_lag: float = setting(
        default=10.0,
        parse=v.non_negative(v.DURATION),
        metavar="DURATION",
        help="a replica whose applied replication offset is behind a master offset sampled "
        "longer ago than this leaves the rotation (an idle master never trips it)",
        group="upstream",
    )
    max_bulk_len: int = setting(
        default=512 * 1024 * 1024,
        parse=v.SIZE,
        default_text="512MiB",
        help="largest bulk string a client may send (Redis's proto-max-bulk-len)",
        group="limits",
    )
    max_multibulk: int = setting(
        default=1024 * 1024,
        help="most arguments in one command",
        group="limits",
    )
    max_inline: int = setting(
        default=64 * 1024,
        parse=v.SIZE,
        default_text="64KiB",
        help="longest inline command",
        group="limits",
    )
    max_query_buffer: int = setting(
        default=1024 * 1024 * 1024,
        parse=v.SIZE,
        default_text="1GiB",
        help="most bytes of one incomplete command buffered per client (client-query-buffer-limit)",
        group="limits",
    )
    max_output_buffer: int = setting(
        default=64 * 1024 * 1024,
        parse=v.SIZE,
        default_text="64MiB",
        help="past this many unsent reply bytes, a client's reading pauses until it catches up",
        group="limits",
    )

    def check(self) -> None:
        if self.max_bulk_len < 1 or self.max_multibulk < 1 or self.max_inline < 1:
            raise SettingsError("buffer limits must be positive")
        if self.sentinel and not self.sentinel_master:
            raise SettingsError("--sentinel needs --sentinel-master NAME")
        if self.master is None and not self.sentinel:
            raise SettingsError(
                "no master: set --master HOST:PORT or --sentinel and --sentinel-master"
            )
        if self.resp_scanner == "c" and "c" not in available():
            raise SettingsError(f"--resp-scanner=c: {EXTENSION_ERROR}")

    def upstream_ssl(self) -> ssl.SSLContext | None:
        """The TLS context for upstream connections, or None for plain TCP."""
        return self._tls_context() if self.upstream_tls else None

    def sentinel_ssl(self) -> ssl.SSLContext | None:
        """The TLS context for Sentinel connections, or None for plain TCP."""
        return self._tls_context() if self.sentinel_tls else None

    def _tls_context(self) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(
                cafile=str(self.upstream_tls_ca) if self.upstream_tls_ca else None
            )
            if self.upstream_tls_cert is not None:
                context.load_cert_chain(
                    str(self.upstream_tls_cert),
                    str(self.upstream_tls_key) if self.upstream_tls_key else None,
                )
        except (OSError, ssl.SSLError) as exc:
            raise SettingsError(f"cannot set up upstream TLS: {exc}") from None
        if not self.upstream_tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def upstream_secret(self) -> str:
        """The upstream password: the env var, else the file, else empty."""
        return _secret(self.upstream_password, self.upstream_password_file)

    def sentinel_secret(self) -> str:
        """The Sentinels' password: the env var, else the file, else empty."""
        return _secret(self.sentinel_password, self.sentinel_password_file)

    def local_secret(self) -> str:
        """The local password clients must present; empty means none."""
        return _secret(self.local_password, self.local_password_file)


def _secret(value: str, path: Path | None) -> str:
    if value:
        return value
    if path is not None:
        try:
            return path.read_text().rstrip("\r\n")
        except OSError as exc:
            raise SettingsError(f"cannot read {path}: {exc.strerror}") from None
    return ""
