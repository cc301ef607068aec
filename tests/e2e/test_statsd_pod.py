"""examples/statsd-adapter.yaml in podman: the app's StatsD comes out of the adapter as metrics."""

from __future__ import annotations

import time
import urllib.request

from pods import local_manifest, logs, podman, running_pod
from support.ports import free_port


def test_the_apps_metrics_come_out_of_the_adapter() -> None:
    port = free_port()
    manifest = local_manifest("statsd-adapter.yaml", {"metrics": port})
    with running_pod(manifest):
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    body = r.read().decode()
                if 'shop_requests_total{handler="cart"}' in body:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert 'shop_requests_total{handler="cart"}' in body, logs(
            "statsd-adapter-example-statsd-adapter"
        )
        assert 'shop_request_duration_seconds_bucket{handler="home",le="+Inf"}' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            assert r.read() == b"ok\n"
        user = podman("exec", "statsd-adapter-example-statsd-adapter", "id", "-u").stdout.strip()
        assert user == "65532"
