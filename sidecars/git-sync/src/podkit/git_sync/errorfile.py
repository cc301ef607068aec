"""The ``--error-file``: the last sync error as JSON, for other containers and tooling to read.

It is what git-sync writes: one line of JSON, ``{"Msg":...,"Err":...,"Args":{...}}`` (Go
marshals its struct's field names as they are, and a map's keys sorted), where ``Msg`` is the log
message (``error syncing repo, will retry`` or ``too many failures, aborting``), ``Err`` the error
on one line and ``Args`` the log line's values (``failCount``; for a failed git command also its
argv, git's stderr and exit code). It is written atomically (a temporary file in the same
directory, then a rename) and removed after the next successful sync. Every string in it passes
the service's redactor, so no credential reaches it.
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
            "Msg": message,
            "Err": one_line(error),
            "Args": dict(sorted(details.items())),
        }
        # every string in it is redacted (redacting the JSON text instead could break its quoting)
        text = json.dumps(
            self.log.redactor.fields(body), separators=(",", ":"), ensure_ascii=False, default=str
        )
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
