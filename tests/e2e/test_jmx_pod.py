"""examples/jmx-adapter.yaml in podman: the Java app's MBeans come out of the adapter."""

from __future__ import annotations

from typing import Any

from tests.e2e.pods import build_standin, local_manifest, logs, running_pod, wait_for_page
from tests.support.ports import free_port


def test_the_apps_mbeans_come_out_of_the_adapter() -> None:
    port = free_port()
    jdk = build_standin("jdk")

    def standin(pod: dict[str, Any]) -> None:
        pod["spec"]["containers"][0]["image"] = jdk

    manifest = local_manifest("jmx-adapter.yaml", {"metrics": port}, edit=standin)
    with running_pod(manifest):
        body = wait_for_page(
            f"http://127.0.0.1:{port}/metrics",
            "shop_orders_processed_total",
            "jmx_scrape_error 0.0",
            timeout=120,
        )
        assert "shop_orders_processed_total" in body, logs("jmx-adapter-example-jmx-adapter")
        assert "jvm_heap_used_bytes" in body
        assert "jmx_scrape_error 0.0" in body
