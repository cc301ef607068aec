"""examples/statsd-adapter.yaml in podman: the app's StatsD comes out of the adapter as metrics."""

from __future__ import annotations

from tests.e2e.pods import fetch, local_manifest, logs, podman, running_pod, wait_for_page
from tests.support.ports import free_port


def test_the_apps_metrics_come_out_of_the_adapter() -> None:
    port = free_port()
    manifest = local_manifest("statsd-adapter.yaml", {"metrics": port})
    with running_pod(manifest):
        body = wait_for_page(
            f"http://127.0.0.1:{port}/metrics", 'shop_requests_total{handler="cart"}'
        )
        assert 'shop_requests_total{handler="cart"}' in body, logs(
            "statsd-adapter-example-statsd-adapter"
        )
        assert 'shop_request_duration_seconds_bucket{handler="home",le="+Inf"}' in body
        assert fetch(f"http://127.0.0.1:{port}/readyz") == "ok\n"
        # the image has no shell and no `id`: podman reads the user from the host side
        user = podman("top", "statsd-adapter-example-statsd-adapter", "user").stdout.split()
        assert user[1:] == ["65532"], user
