"""examples/statsd-adapter.yaml as shipped: the app's StatsD comes out of the adapter as metrics,
its probes pass, and Prometheus scrapes it as the pod's annotations say."""

from __future__ import annotations

import pytest

from tests.e2e.pods import fetch, podman, wait_for_page
from tests.e2e.prometheus import Prometheus
from tests.e2e.shipped import Shipped, play, shipped
from tests.support.waits import wait_until


def test_the_apps_metrics_come_out_of_the_adapter(prometheus: Prometheus) -> None:
    example = shipped("statsd-adapter.yaml")
    port = example.host_port("statsd-adapter-example", "metrics")
    with play(example) as prober:
        prober.wait_ready()
        body = wait_for_page(
            f"http://127.0.0.1:{port}/metrics", 'shop_requests_total{handler="cart"}'
        )
        assert 'shop_requests_total{handler="cart"}' in body
        assert 'shop_request_duration_seconds_bucket{handler="home",le="+Inf"}' in body
        assert fetch(f"http://127.0.0.1:{port}/readyz") == "ok\n"
        # the image has no shell and no `id`: podman reads the user from the host side
        # (65532 is "nonroot" in the image's /etc/passwd)
        user = podman("top", "statsd-adapter-example-statsd-adapter", "user").stdout.split()
        assert user[1:] == ["nonroot"], user
        pods = prometheus.scrape(example)
        try:
            assert pods == ["statsd-adapter-example"]
            prometheus.check_scraped(pods, ['shop_requests_total{handler="cart"} > 0'])
        finally:
            prometheus.forget(pods)
        prober.check()


def test_a_failing_probe_fails_the_run() -> None:
    example = shipped("statsd-adapter.yaml")

    def break_liveness(play: Shipped) -> None:
        adapter = play.pod("statsd-adapter-example")["spec"]["containers"][1]
        adapter["livenessProbe"] = {
            "httpGet": {"path": "/no-such-page", "port": "metrics"},
            "periodSeconds": 1,
            "failureThreshold": 2,
        }

    example.change(
        "statsd-adapter: the liveness probe asks for /no-such-page every second",
        "this test checks that a failing probe fails the run",
        break_liveness,
    )
    with play(example) as prober:
        wait_until(prober.problems, timeout=30, what="the liveness probe to fail")
        with pytest.raises(AssertionError, match=r"livenessProbe .*/no-such-page failed \d+ times"):
            prober.check()
