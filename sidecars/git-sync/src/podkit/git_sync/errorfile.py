"""The ``--error-file``: the last sync error as JSON, for other containers and tooling to read.

It holds ``msg`` (what failed), ``err`` (the error on one line), and ``args`` (for a failed git
command: its argv and git's stderr; the consecutive failure count), like git-sync's. It is written
atomically (a temporary file in the same directory, then a rename) and removed after the next
successful sync. Everything in it passes the process-wide redactor, so no credential reaches it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from podkit.core import Logger, one_line
from podkit.git_sync.gitcmd import CommandError


class ErrorFile:
    """Writes and removes the error file at ``path`` (None: no error file)."""

    def __init__(self, path: Path | None, log: Logger) -> None:
        self.path = path
        self.log = log

    def write(self, message: str, error: BaseException, **args: Any) -> None:
        if self.path is None:
            return
        details: dict[str, Any] = dict(args)
        if isinstance(error, CommandError):
            details["command"] = error.argv
            details["stderr"] = error.stderr
            details["exit_code"] = error.code
        body = {
            "msg": message,
            "err": one_line(error),
            "args": details,
        }
        # every string in it is redacted (redacting the JSON text instead could break its quoting)
        text = json.dumps(self.log.redactor.fields(body), indent=2, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except OSError as exc:
            self.log.error("can't write the error file", path=str(self.path), error=str(exc))

    def remove(self) -> None:
        if self.path is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            self.log.error("can't remove the error file", path=str(self.path), error=str(exc))
