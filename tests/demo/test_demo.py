"""`make demo`'s script: it starts, prints where to look and real output, and stops on Ctrl-C."""

from __future__ import annotations

import re
import signal
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.processes import Child

ROOT = Path(__file__).resolve().parents[2]


def test_demo_starts_shows_metrics_and_git_sync_and_stops_cleanly() -> None:
    child = Child([sys.executable, str(ROOT / "scripts/demo.py")])
    try:
        out = child.wait_for_output("buckets left out", stream="stdout", timeout=60)
        child.wait_for_output('shop_requests_total{handler="home"}', stream="stdout", timeout=30)
        child.wait_for_output('shop_orders_processed_total{region="eu"}', stream="stdout")
        # the log streamer prints the app's rotated log files, from their first line
        child.wait_for_output("a 00000000 an order was placed", stream="stdout", timeout=30)
        # the ambassador's split: the client's GETs reach the replica once it is in rotation
        deadline = time.monotonic() + 60
        while not re.search(r"replica-side reads [1-9]", child.stdout):
            assert time.monotonic() < deadline, "no read reached the replica"
            time.sleep(0.5)
        assert "http://127.0.0.1:9102/metrics" in out
        # git-sync: its URLs are printed and the page it publishes shows a commit
        page = "http://127.0.0.1:9181/html/index.html"
        assert page in out
        assert "http://127.0.0.1:9180/metrics" in out
        child.wait_for_output("<h1>podkit git-sync demo: commit ", stream="stdout", timeout=30)
        with urllib.request.urlopen(page, timeout=5) as response:
            first = response.read().decode()
        assert "podkit git-sync demo: commit " in first
        # the committer pushes every 5 s and git-sync polls every second: the page moves on
        deadline = time.monotonic() + 60
        while True:
            with urllib.request.urlopen(page, timeout=5) as response:
                now = response.read().decode()
            if now != first:
                break
            assert time.monotonic() < deadline, "the served page never showed a new commit"
            time.sleep(0.5)
        assert "podkit git-sync demo: commit " in now
        child.signal(signal.SIGINT)
        assert child.wait(timeout=60) == 0
        assert "demo: stopped" in child.stderr
    finally:
        child.stop()
