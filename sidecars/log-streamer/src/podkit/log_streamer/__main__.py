"""``python -m podkit.log_streamer``: the same as the ``podkit-log-streamer`` command."""

from podkit.log_streamer.cli import run

run()
