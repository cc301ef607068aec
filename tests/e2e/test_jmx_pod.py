"""examples/jmx-adapter.yaml as shipped: the Java app's MBeans come out of the adapter, its probes
pass, and Prometheus scrapes it as the pod's annotations say."""

from __future__ import annotations

from tests.e2e.pods import wait_for_page
from tests.e2e.prometheus import Prometheus
from tests.e2e.shipped import play, shipped


def test_the_apps_mbeans_come_out_of_the_adapter(prometheus: Prometheus) -> None:
    example = shipped("jmx-adapter.yaml")
    port = example.host_port("jmx-adapter-example", "metrics")
    with play(example) as prober:
        prober.wait_ready(timeout=100)
        body = wait_for_page(
            f"http://127.0.0.1:{port}/metrics",
            "shop_orders_processed_total",
            "jmx_scrape_error 0.0",
            timeout=60,
        )
        assert "shop_orders_processed_total" in body
        assert "jvm_heap_used_bytes" in body
        assert "jmx_scrape_error 0.0" in body
        pods = prometheus.scrape(example)
        try:
            prometheus.check_scraped(pods, ["shop_orders_processed_total > 0"])
        finally:
            prometheus.forget(pods)
        prober.check()
