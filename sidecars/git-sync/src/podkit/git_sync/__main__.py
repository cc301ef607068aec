"""``python -m podkit.git_sync``: the same as the ``podkit-git-sync`` command."""

from podkit.git_sync.cli import run

run()
