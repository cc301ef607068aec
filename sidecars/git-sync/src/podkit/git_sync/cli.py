"""The ``podkit-git-sync`` command: git-sync v4's command line over :class:`GitSync`.

``--man`` prints the manual (generated from the settings) and exits; everything else is
podkit-core's :func:`~podkit.core.main`: settings errors exit 2 with one line, a failed start or
too many sync failures exit 1, SIGTERM drains the in-flight sync and exits 0.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from podkit.core import main
from podkit.git_sync.manual import manual, wants_manual
from podkit.git_sync.service import GitSync


def run(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if wants_manual(args):
        sys.stdout.write(manual())
        sys.exit(0)
    sys.exit(main(GitSync, args))


if __name__ == "__main__":
    run()
