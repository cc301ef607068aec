"""The ``podkit-git-sync`` command: git-sync v4's command line over :class:`GitSync`.

Everything is podkit-core's :func:`~podkit.core.main`: a value that does not parse exits 2 with
one line, a broken cross-flag rule exits 1 (as git-sync: the settings are checked first), a
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
    from podkit.core import SettingsError, main
    from podkit.git_sync.service import GitSync
    from podkit.git_sync.settings import ConfigError, GitSyncSettings

    try:  # git-sync exits 1 for a broken cross-flag rule (core's main exits 2 for all)
        GitSyncSettings.load(  # as main() loads them: --help and --version end here
            args,
            prog=GitSync.name,
            version=f"{GitSync.name} {GitSync.version}",
            description=GitSync.description,
        )
    except ConfigError as exc:
        sys.stderr.write(f"{GitSync.name}: {exc}\n")
        sys.exit(1)
    except SettingsError:
        pass  # a value that does not parse: main() says so, and exits 2 as pflag does
    sys.exit(main(GitSync, args))


if __name__ == "__main__":
    run()
