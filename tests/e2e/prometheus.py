"""A real Prometheus (Debian's `prometheus` package) for the e2e: it scrapes the played pods'
/metrics where their ``prometheus.io/*`` annotations say, and is asked through its query API.

It listens on 127.0.0.1 (a free port), keeps its config and storage in a temporary folder,
finds targets through file-based discovery (a test adds a file, Prometheus picks it up within a
second) and is stopped by PID.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.e2e.shipped import Shipped
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child


class Prometheus:
    def __init__(self, folder: Path) -> None:
        binary = shutil.which("prometheus")
        assert binary, "the e2e needs Debian's prometheus package (scripts/e2e-packages.txt)"
        self.targets = folder / "targets"
        self.targets.mkdir(parents=True)
        config = folder / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: podkit-e2e\n"
            "    file_sd_configs:\n"
            f"      - files: ['{self.targets}/*.json']\n"
            "        refresh_interval: 1s\n"
        )
        self.port = free_port()
        self.child = Child([
            binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn",
        ])  # fmt: skip
        wait_for_port(self.port, timeout=60)

    def stop(self) -> None:
        self.child.stop()

    def scrape(self, play: Shipped) -> list[str]:
        """Add a target for each pod of ``play`` annotated ``prometheus.io/scrape: "true"``,
        labelled ``pod=<name>``; the pods' names."""
        pods = []
        for pod in play.pods():
            notes = pod["metadata"].get("annotations", {})
            if notes.get("prometheus.io/scrape") != "true":
                continue
            name = pod["metadata"]["name"]
            port = play.host_port(name, notes["prometheus.io/port"])
            target = [{
                "targets": [f"127.0.0.1:{port}"],
                "labels": {"pod": name, "__metrics_path__": notes.get("prometheus.io/path", "/metrics")},
            }]  # fmt: skip
            path = self.targets / f"{name}.json"
            path.with_suffix(".tmp").write_text(json.dumps(target))
            path.with_suffix(".tmp").rename(path)
            pods.append(name)
        return pods

    def forget(self, pods: list[str]) -> None:
        for name in pods:
            (self.targets / f"{name}.json").unlink(missing_ok=True)

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": promql}
        )
        with urllib.request.urlopen(url, timeout=5) as response:
            answer = json.loads(response.read())
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def wait_for(self, promql: str, timeout: float = 60) -> list[dict[str, Any]]:
        """The query's result once it is not empty; fails after ``timeout`` with what the
        targets page says (the scrape error, if any)."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(promql)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Prometheus: no result for {promql}; targets: {self.targets_state()}"
                )
            time.sleep(0.5)

    def targets_state(self) -> str:
        url = f"http://127.0.0.1:{self.port}/api/v1/targets"
        with urllib.request.urlopen(url, timeout=5) as response:
            active = json.loads(response.read())["data"]["activeTargets"]
        return "; ".join(
            f"{t['labels'].get('pod')}: health={t['health']} error={t['lastError']!r}"
            for t in active
        )

    def check_scraped(self, pods: list[str], series: list[str]) -> None:
        """Each pod's target is up (Prometheus parsed its whole exposition) and each series of
        ``series`` arrived."""
        for pod in pods:
            self.wait_for(f'up{{pod="{pod}"}} == 1')
            self.wait_for(f'scrape_samples_scraped{{pod="{pod}"}} > 0')
        for name in series:
            self.wait_for(name)
        print(f"e2e: Prometheus scraped {', '.join(pods)}: up == 1, series {', '.join(series)}")
