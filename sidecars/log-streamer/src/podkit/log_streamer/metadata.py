"""Where a record came from: the pod (Downward API env), the container, labels, the file path.

The example manifest passes ``POD_NAME``, ``POD_NAMESPACE``, ``NODE_NAME`` and
``CONTAINER_NAME`` (the app container whose files are read) through the Downward API; whichever
of them is set becomes a field of every record, beside the ``--label`` values.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping

__all__ = ["DOWNWARD_ENV", "Metadata"]

DOWNWARD_ENV = {
    "pod": "POD_NAME",
    "namespace": "POD_NAMESPACE",
    "node": "NODE_NAME",
    "container": "CONTAINER_NAME",
}


class Metadata:
    """The fields that are the same for every record of this streamer."""

    def __init__(
        self, labels: Iterable[tuple[str, str]] = (), environ: Mapping[str, str] | None = None
    ) -> None:
        env = os.environ if environ is None else environ
        self.pod = {name: env[var] for name, var in DOWNWARD_ENV.items() if env.get(var)}
        self.labels = dict(labels)

    def hostname(self) -> str:
        """The syslog HOSTNAME: the pod's name when known, else this host's name."""
        return self.pod.get("pod") or socket.gethostname()
