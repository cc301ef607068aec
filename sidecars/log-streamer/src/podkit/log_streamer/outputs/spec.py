"""``--output`` values: ``stdout``, ``file:PATH``, ``syslog://HOST:PORT``, ``relp://HOST:PORT``,
``relp+tls://HOST:PORT``, ``loki:URL`` and ``bulk:URL``.

An :class:`OutputSpec` names an output; its :attr:`OutputSpec.name` is also the output's id in the
checkpoint, so changing an output's spelling starts its delivery afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from podkit.core import values as v

__all__ = ["KINDS", "OUTPUT", "OutputSpec", "parse_output"]

KINDS = ("stdout", "file", "syslog", "relp", "loki", "bulk")


@dataclass(frozen=True)
class OutputSpec:
    """One parsed ``--output``: its kind and where it goes."""

    kind: str
    target: str = ""
    host: str = ""
    port: int = 0
    tls: bool = False

    @property
    def name(self) -> str:
        if self.kind == "stdout":
            return "stdout"
        if self.kind in ("syslog", "relp"):
            scheme = "relp+tls" if self.tls else self.kind
            return f"{scheme}://{v.HostPort(self.host, self.port)}"
        return f"{self.kind}:{self.target}"

    def __str__(self) -> str:
        return self.name


def _host_port(text: str) -> tuple[str, int]:
    hp = v.parse_host_port(text)
    if not hp.host:
        raise ValueError("a host is required")
    return hp.host, hp.port


def parse_output(raw: Any) -> OutputSpec:
    text = v.parse_str(raw).strip()
    if text == "stdout":
        return OutputSpec("stdout")
    scheme, sep, rest = text.partition("://")
    if sep and scheme in ("syslog", "syslog+tcp", "relp", "relp+tls"):
        host, port = _host_port(rest.rstrip("/"))
        kind = "relp" if scheme.startswith("relp") else "syslog"
        return OutputSpec(kind, host=host, port=port, tls=scheme == "relp+tls")
    kind, sep, target = text.partition(":")
    if sep and kind == "file" and target:
        return OutputSpec("file", target)
    if sep and kind in ("loki", "bulk"):
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{kind} needs an http(s) URL, got {target!r}")
        return OutputSpec(kind, target)
    raise ValueError(f"unknown output {text!r}")


OUTPUT: v.Parser[OutputSpec] = v.Parser(
    parse_output,
    "stdout, file:PATH, syslog://HOST:PORT, relp://HOST:PORT, relp+tls://HOST:PORT, "
    "loki:URL or bulk:URL",
    metavar="OUTPUT",
)
