"""Pods made by `podkit inject` play like the hand-written examples: an example's app pod with
its podkit container taken out, injected again with the command, played as shipped, probes
polled and (for adapters) scraped by Prometheus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.e2e.pods import ROOT, wait_for_page
from tests.e2e.prometheus import Prometheus
from tests.e2e.shipped import play, shipped


def without(example: str, component: str) -> str:
    """``examples/<example>`` with ``component``'s container, its volumes and the scrape
    annotations taken out of the pods (what a user has before injecting)."""
    docs = [d for d in yaml.safe_load_all((ROOT / "examples" / example).read_text()) if d]
    for pod in (d for d in docs if d["kind"] == "Pod"):
        spec = pod["spec"]
        used: set[str] = set()
        for key in ("initContainers", "containers"):
            taken = [c for c in spec.get(key, []) if c["name"] == component]
            spec[key] = [c for c in spec.get(key, []) if c["name"] != component]
            used |= {m["name"] for c in taken for m in c.get("volumeMounts", [])}
        for container in spec.get("initContainers", []) + spec["containers"]:
            container["volumeMounts"] = [
                m for m in container.get("volumeMounts", []) if m["name"] not in used
            ]
            if not container["volumeMounts"]:
                del container["volumeMounts"]
        spec["volumes"] = [v for v in spec.get("volumes", []) if v["name"] not in used]
        if not spec.get("initContainers"):
            spec.pop("initContainers", None)
        pod["metadata"].pop("annotations", None)
    return yaml.safe_dump_all(docs)


def inject(text: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "podkit.kit.cli", "inject", *args],
        input=text, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_injected_statsd_adapter_serves_the_apps_metrics(prometheus: Prometheus) -> None:
    text = inject(
        without("statsd-adapter.yaml", "statsd-adapter"), "statsd-adapter",
        "--inject-configmap=statsd-mapping:/etc/statsd",
        "--statsd.mapping-config=/etc/statsd/mapping.yaml",
    )  # fmt: skip
    example = shipped("statsd-adapter.yaml, injected by podkit inject", text)
    port = example.host_port("statsd-adapter-example", "metrics")
    with play(example) as prober:
        prober.wait_ready()
        body = wait_for_page(
            f"http://127.0.0.1:{port}/metrics", 'shop_requests_total{handler="cart"}'
        )
        assert 'shop_requests_total{handler="cart"}' in body
        pods = prometheus.scrape(example)
        try:
            assert pods == ["statsd-adapter-example"]
            prometheus.check_scraped(pods, ['shop_requests_total{handler="home"} > 0'])
        finally:
            prometheus.forget(pods)
        prober.check()


def test_an_injected_git_sync_feeds_nginx(tmp_path: Path) -> None:
    served = tmp_path / "srv"
    bare, work = served / "site.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "index.html").write_text("<h1>injected</h1>\n")
    git = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid"]
    subprocess.run([*git, "add", "index.html"], cwd=work, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "v1"], cwd=work, check=True)
    subprocess.run([*git, "push", "-q", str(bare), "main"], cwd=work, check=True)
    served.chmod(0o755)
    server = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "git-server"},
        "spec": {
            "containers": [{
                "name": "git", "image": "localhost/podkit-e2e/git:dev",
                "volumeMounts": [{"name": "srv", "mountPath": "/srv/git", "readOnly": True}],
            }],
            "volumes": [{"name": "srv", "hostPath": {"path": str(served), "type": "Directory"}}],
        },
    }  # fmt: skip
    text = inject(
        without("git-sync.yaml", "git-sync"), "git-sync", "--repo=git://git-server/site.git",
        "--ref=main", "--link=html", "--period=30s",
    )  # fmt: skip
    text += "---\n" + yaml.safe_dump(server)  # after: inject adds git-sync to every pod
    example = shipped("git-sync.yaml without git-sync, injected by podkit inject", text)
    web = example.host_port("git-sync-example", "http")
    with play(example) as prober:
        prober.wait_ready(timeout=100)
        assert "injected" in wait_for_page(f"http://127.0.0.1:{web}/", "injected")
        prober.check()
