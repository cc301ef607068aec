"""`make demo`'s script: it starts, prints where to look and real output, and stops on Ctrl-C."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from support.processes import Child

ROOT = Path(__file__).resolve().parents[2]


def test_demo_starts_shows_metrics_and_stops_cleanly() -> None:
    child = Child([sys.executable, str(ROOT / "scripts/demo.py")])
    try:
        out = child.wait_for_output("buckets left out", stream="stdout", timeout=60)
        child.wait_for_output('shop_requests_total{handler="home"}', stream="stdout", timeout=30)
        assert "http://127.0.0.1:9102/metrics" in out
        child.signal(signal.SIGINT)
        assert child.wait(timeout=60) == 0
        assert "demo: stopped" in child.stderr
    finally:
        child.stop()
