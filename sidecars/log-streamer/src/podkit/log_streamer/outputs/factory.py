"""Builds the output object an :class:`~podkit.log_streamer.outputs.spec.OutputSpec` names."""

from __future__ import annotations

import importlib

from podkit.log_streamer.outputs.base import Output, OutputContext
from podkit.log_streamer.outputs.spec import OutputSpec

__all__ = ["make_output"]

_CLASSES = {
    "stdout": "podkit.log_streamer.outputs.stdout:StdoutOutput",
    "file": "podkit.log_streamer.outputs.file:FileOutput",
    "syslog": "podkit.log_streamer.outputs.syslog:SyslogOutput",
    "relp": "podkit.log_streamer.outputs.relp:RelpOutput",
    "loki": "podkit.log_streamer.outputs.loki:LokiOutput",
    "bulk": "podkit.log_streamer.outputs.bulk:BulkOutput",
}


def make_output(spec: OutputSpec, context: OutputContext) -> Output:
    """The output for ``spec`` (its module is imported only when it is used)."""
    module, _, name = _CLASSES[spec.kind].partition(":")
    cls: type[Output] = getattr(importlib.import_module(module), name)
    return cls(spec, context)
