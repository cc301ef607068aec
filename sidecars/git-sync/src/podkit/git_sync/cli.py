"""The ``podkit-git-sync`` command: git-sync v4's command line over :class:`GitSync`.

Everything is podkit-core's :func:`~podkit.core.main`: settings errors exit 2 with one line, a
failed start or too many sync failures exit 1, SIGTERM drains the in-flight sync and exits 0;
``--man`` is :meth:`GitSync.preflight` (prints the manual, exits 0). Run as PID 1, the command
first becomes a tiny init (:mod:`.init`) that reaps zombies and runs the sidecar as its child.
``--version`` alone is answered before anything else is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from podkit.git_sync import __version__


def run(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # what the full parser prints, without loading it
        sys.stdout.write(f"git-sync {__version__}\n")
        sys.exit(0)
    from podkit.git_sync.init import run_supervised, should_supervise

    if should_supervise():
        sys.exit(run_supervised(args))
    from podkit.core import main
    from podkit.git_sync.service import GitSync

    sys.exit(main(GitSync, args))


if __name__ == "__main__":
    run()
