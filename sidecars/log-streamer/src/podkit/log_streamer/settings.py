"""The log streamer's settings: inputs, records, parsing, metadata, outputs and delivery.

Flags, ``LOG_STREAMER_*`` env vars and the YAML file, in podkit-core's way. Cross-setting rules
(at least one ``--path``, a regex parser needs ``--parse-regex``, only one multi-line rule, TLS
files only with a TLS output) live in :meth:`LogStreamerSettings.check`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from podkit.core import HostPort, ServiceSettings, SettingsError, setting
from podkit.core import values as v
from podkit.log_streamer.outputs.spec import OUTPUT, OutputSpec

__all__ = ["LogStreamerSettings"]


def _regex(raw: Any) -> str:
    text = v.parse_str(raw)
    try:
        re.compile(text.encode())
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return text


_REGEX = v.Parser(_regex, "a regular expression (Python syntax)", metavar="REGEX")


def _label(raw: Any) -> tuple[str, str]:
    name, sep, value = v.parse_str(raw).partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError("expected NAME=VALUE with NAME made of letters, digits and _")
    return name, value


_LABEL = v.Parser(_label, "NAME=VALUE", lambda lv: f"{lv[0]}={lv[1]}", "NAME=VALUE")


def _positive_size(raw: Any) -> int:
    value = v.parse_size(raw)
    if value < 1:
        raise ValueError("must be more than 0")
    return value


_POSITIVE_SIZE = v.Parser(
    _positive_size, "a size such as 4096, 64KB or 16MiB, more than 0", metavar="SIZE"
)


def _positive_int(raw: Any) -> int:
    value = v.parse_int(raw)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


_COUNT = v.Parser(_positive_int, "a whole number of at least 1", metavar="N")


class LogStreamerSettings(ServiceSettings):
    """Settings of :class:`~podkit.log_streamer.service.LogStreamer`."""

    env_prefix = "LOG_STREAMER_"
    setting_overrides = {
        # 2020, fluent-bit's monitoring port: a sidecar must not take the app's usual 8080
        "admin_listen": {"default": HostPort("", 2020)},
    }

    # --- inputs ----------------------------------------------------------------------------------
    path: list[str] = setting(
        default=[],
        repeatable=True,
        help="glob of log files to follow; new matches are picked up while running",
        metavar="GLOB",
        group="inputs",
    )
    exclude: list[str] = setting(
        default=[],
        repeatable=True,
        help="glob of files not to follow, matched against the path or the file name",
        metavar="GLOB",
        group="inputs",
    )
    state_dir: Path | None = setting(
        default=None,
        help="directory for the checkpoint database (a volume that outlives the container); "
        "unset keeps positions in memory only, so a restart reads files from the start",
        metavar="DIR",
        group="inputs",
    )
    read_from: str = setting(
        default="beginning",
        parse=v.choice("beginning", "end"),
        help="where to start a file found at start-up that has no checkpoint",
        group="inputs",
    )
    follow_symlinks: bool = setting(
        default=False,
        help="follow symlinks whose target is outside the directory their pattern names",
        group="inputs",
    )
    inotify: bool = setting(
        default=True,
        help="wake on inotify events where the kernel has them (polling runs either way)",
        group="inputs",
    )
    poll_interval: float = setting(
        default=1.0,
        parse=v.non_negative(v.DURATION),
        help="how often files and globs are checked without an inotify event",
        group="inputs",
    )
    rotate_wait: float = setting(
        default=5.0,
        parse=v.non_negative(v.DURATION),
        help="how long a rotated or deleted file is still read after its last growth",
        group="inputs",
    )
    read_slice: int = setting(
        default=256 * 1024,
        parse=_POSITIVE_SIZE,
        help="bytes read from one file at a time",
        group="inputs",
    )

    # --- records ---------------------------------------------------------------------------------
    max_record_size: int = setting(
        default=256 * 1024,
        parse=_POSITIVE_SIZE,
        help="longest record; longer lines are split into pieces of this size and counted",
        group="records",
    )
    partial_timeout: float = setting(
        default=1.0,
        parse=v.non_negative(v.DURATION),
        help="how long an unterminated last line is held for its newline before it is sent as is",
        group="records",
    )
    multiline_start: str | None = setting(
        default=None,
        parse=v.optional(_REGEX),
        help="regex a line matches when it starts a record; other lines join the record before",
        group="records",
    )
    multiline_continuation: str | None = setting(
        default=None,
        parse=v.optional(_REGEX),
        help="regex a line matches when it continues the record before (e.g. '^\\s+at ')",
        group="records",
    )
    multiline_timeout: float = setting(
        default=1.0,
        parse=v.non_negative(v.DURATION),
        help="how long a multi-line record waits for more lines",
        group="records",
    )
    multiline_max_lines: int = setting(
        default=500,
        parse=_COUNT,
        help="most lines joined into one record",
        group="records",
    )

    # --- parsing and metadata --------------------------------------------------------------------
    parser: str = setting(
        default="none",
        parse=v.choice("none", "json", "regex"),
        help="how records are parsed into fields",
        group="parsing",
    )
    parse_regex: str | None = setting(
        default=None,
        parse=v.optional(_REGEX),
        help="regex with named groups for --parser regex",
        group="parsing",
    )
    time_key: str | None = setting(
        default=None,
        help="parsed field holding the record's own timestamp (RFC 3339 or epoch seconds)",
        group="parsing",
    )
    label: list[tuple[str, str]] = setting(
        default=[],
        parse=_LABEL,
        repeatable=True,
        help="label added to every record",
        group="parsing",
    )

    # --- outputs ---------------------------------------------------------------------------------
    output: list[OutputSpec] = setting(
        default_factory=lambda: [OutputSpec("stdout")],
        default_text="stdout",
        parse=OUTPUT,
        repeatable=True,
        help="where records go: stdout, file:PATH, syslog://HOST:PORT, "
        "relp://HOST:PORT, relp+tls://HOST:PORT, loki:URL, bulk:URL",
        group="outputs",
    )
    format: str = setting(
        default="raw",
        parse=v.choice("raw", "json"),
        help="how stdout and file outputs write a record: the line as read, or JSON with metadata",
        group="outputs",
    )
    batch_records: int = setting(
        default=1000,
        parse=_COUNT,
        help="most records an output sends at once",
        group="outputs",
    )
    batch_wait: float = setting(
        default=0.2,
        parse=v.non_negative(v.DURATION),
        help="how long an HTTP output waits to fill a batch",
        group="outputs",
    )
    buffer_records: int = setting(
        default=10000,
        parse=_COUNT,
        help="records held in memory per output; when full, reading stops (files keep their place)",
        group="outputs",
    )
    disk_buffer_size: int = setting(
        default=0,
        parse=v.SIZE,
        help="per output, a disk buffer of this many bytes in --state-dir that every record goes "
        "through (so files can rotate away while a store is down); 0 turns it off",
        group="outputs",
    )
    retry_max_backoff: float = setting(
        default=30.0,
        parse=v.non_negative(v.DURATION),
        help="longest pause between retries of an output that failed",
        group="outputs",
    )
    checkpoint_interval: float = setting(
        default=0.5,
        parse=v.non_negative(v.DURATION),
        help="how often acknowledged positions are written to the checkpoint",
        group="outputs",
    )
    syslog_app_name: str = setting(
        default="app",
        help="APP-NAME of syslog and RELP messages",
        group="syslog",
    )
    syslog_hostname: str | None = setting(
        default=None,
        help="HOSTNAME of syslog and RELP messages (default: NODE_NAME's pod, else the host name)",
        group="syslog",
    )
    syslog_facility: int = setting(
        default=1,
        parse=v.Parser(lambda raw: _ranged(raw, 0, 23), "a facility number 0-23", metavar="N"),
        help="facility of syslog and RELP messages (1 is user)",
        group="syslog",
    )
    syslog_severity: int = setting(
        default=6,
        parse=v.Parser(lambda raw: _ranged(raw, 0, 7), "a severity number 0-7", metavar="N"),
        help="severity of syslog and RELP messages (6 is informational)",
        group="syslog",
    )
    http_username: str | None = setting(
        default=None,
        help="user name for HTTP basic auth of the loki and bulk outputs",
        group="http",
    )
    http_password_file: Path | None = setting(
        default=None,
        help="file holding the basic-auth password (read again at each request)",
        metavar="FILE",
        group="http",
    )
    http_bearer_token_file: Path | None = setting(
        default=None,
        help="file holding a bearer token for the loki and bulk outputs (read at each request)",
        metavar="FILE",
        group="http",
    )
    http_gzip: bool = setting(
        default=True,
        negatable=True,
        help="gzip request bodies of the loki and bulk outputs",
        group="http",
    )
    http_timeout: float = setting(
        default=30.0,
        parse=v.non_negative(v.DURATION),
        help="how long one HTTP request may take",
        group="http",
    )
    loki_tenant: str | None = setting(
        default=None,
        help="Loki tenant (the X-Scope-OrgID header)",
        group="http",
    )
    bulk_index: str = setting(
        default="logs",
        help="index of the bulk output; strftime codes (logs-%Y.%m.%d) use the record's UTC time",
        group="http",
    )
    bulk_api_key_file: Path | None = setting(
        default=None,
        help="file holding an Elasticsearch API key (sent as Authorization: ApiKey ...)",
        metavar="FILE",
        group="http",
    )
    tls_ca_file: Path | None = setting(
        default=None, help="CA bundle to verify TLS servers with", metavar="FILE", group="tls"
    )
    tls_cert_file: Path | None = setting(
        default=None, help="client certificate for TLS outputs", metavar="FILE", group="tls"
    )
    tls_key_file: Path | None = setting(
        default=None, help="client key for TLS outputs", metavar="FILE", group="tls"
    )
    tls_insecure: bool = setting(
        default=False,
        help="do not verify TLS server certificates (for tests only)",
        group="tls",
    )

    def check(self) -> None:
        if not self.path:
            raise SettingsError("at least one --path (env LOG_STREAMER_PATH) is required")
        if self.parser == "regex" and not self.parse_regex:
            raise SettingsError("--parser regex needs --parse-regex")
        if self.parse_regex and re.compile(self.parse_regex).groupindex == {}:
            raise SettingsError("--parse-regex needs at least one named group (?P<name>...)")
        if self.multiline_start and self.multiline_continuation:
            raise SettingsError("give --multiline-start or --multiline-continuation, not both")
        if self.disk_buffer_size and self.state_dir is None:
            raise SettingsError("--disk-buffer-size needs --state-dir (the buffer lives there)")
        names = [spec.name for spec in self.output]
        if len(set(names)) != len(names):
            raise SettingsError(f"an output is given twice: {', '.join(names)}")
        if not self.output:
            raise SettingsError("at least one --output is required")
        tls_files = self.tls_ca_file or self.tls_cert_file or self.tls_key_file
        if tls_files and not any(
            spec.tls or spec.target.startswith("https:") for spec in self.output
        ):
            raise SettingsError("--tls-* files are given but no output uses TLS")
        auths = [
            name
            for name, given in (
                ("--http-password-file", self.http_password_file),
                ("--http-bearer-token-file", self.http_bearer_token_file),
                ("--bulk-api-key-file", self.bulk_api_key_file),
            )
            if given
        ]
        if len(auths) > 1:
            raise SettingsError(f"give only one of {', '.join(auths)}")
        if bool(self.http_username) != bool(self.http_password_file):
            raise SettingsError("--http-username and --http-password-file go together")
        if auths and not any(spec.kind in ("loki", "bulk") for spec in self.output):
            raise SettingsError(f"{auths[0]} is given but there is no loki or bulk output")
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise SettingsError("--tls-cert-file and --tls-key-file go together")


def _ranged(raw: Any, low: int, high: int) -> int:
    value = v.parse_int(raw)
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}")
    return value
