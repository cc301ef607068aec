"""`podkit inject`: every component into every workload kind; each output valid Kubernetes 1.30
(kubernetes-validate, strict), idempotent, other documents untouched, bad input one line."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from podkit.kit.inject import InjectError, Options, inject_stream
from podkit.kit.recipes import RECIPES, REPOSITORY

ROOT = Path(__file__).resolve().parents[2]
APP = {
    "name": "app",
    "image": "registry.example.com/shop:1.2",
    "ports": [{"name": "http", "containerPort": 8080}],
}
POD_SPEC = {"containers": [APP]}
TEMPLATE = {"metadata": {"labels": {"app": "shop"}}, "spec": POD_SPEC}
SELECTOR = {"matchLabels": {"app": "shop"}}
WORKLOADS: dict[str, dict[str, Any]] = {
    "Pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shop"}, "spec": POD_SPEC},
    "Deployment": {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop"},
        "spec": {"replicas": 2, "selector": SELECTOR, "template": TEMPLATE},
    },
    "StatefulSet": {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "shop"},
        "spec": {"serviceName": "shop", "selector": SELECTOR, "template": TEMPLATE},
    },
    "DaemonSet": {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "shop"},
        "spec": {"selector": SELECTOR, "template": TEMPLATE},
    },
    "Job": {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "shop"},
        "spec": {"template": {**TEMPLATE, "spec": {**POD_SPEC, "restartPolicy": "Never"}}},
    },
    "CronJob": {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "shop"},
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {
            **TEMPLATE, "spec": {**POD_SPEC, "restartPolicy": "OnFailure"}}}}},
    },
}  # fmt: skip
OTHERS = [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop"},
     "spec": {"selector": {"app": "shop"}, "ports": [{"port": 80, "targetPort": "http"}]}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}},
]  # fmt: skip
FLAGS = {
    "log-streamer": ["--format=json"],
    "git-sync": ["--repo=https://example.com/site.git", "--link=html"],
    "redis-ambassador": ["--master=redis-master:6379", "--inject-secret-env=REDIS_AMBASSADOR_UPSTREAM_PASSWORD=redis-auth:password"],
    "statsd-adapter": ["--inject-configmap=statsd-mapping:/etc/statsd", "--statsd.mapping-config=/etc/statsd/mapping.yaml"],
    "jmx-adapter": ["--inject-configmap=shop-java:/etc/jmx", "9404", "/etc/jmx/config.yaml"],
}  # fmt: skip


def options(component: str) -> Options:
    from podkit.kit.cli import parse

    return parse(["inject", component, *FLAGS[component]])


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "Pod":
        return dict(doc["spec"])
    if doc["kind"] == "CronJob":
        return dict(doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(doc["spec"]["template"]["spec"])


def pod_metadata(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "Pod":
        return dict(doc["metadata"])
    if doc["kind"] == "CronJob":
        return dict(doc["spec"]["jobTemplate"]["spec"]["template"]["metadata"])
    return dict(doc["spec"]["template"]["metadata"])


def inject(docs: list[dict[str, Any]], component: str) -> list[dict[str, Any]]:
    out = inject_stream(yaml.safe_dump_all(docs), options(component))
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.mark.parametrize("kind", sorted(WORKLOADS))
@pytest.mark.parametrize("component", sorted(RECIPES))
def test_injected_workloads_are_valid_idempotent_and_complete(component: str, kind: str) -> None:
    stream = [OTHERS[0], copy.deepcopy(WORKLOADS[kind]), OTHERS[1]]
    once = inject(stream, component)
    for doc in once:
        kubernetes_validate.validate(doc, "1.30", strict=True)
    assert inject(once, component) == once  # idempotent
    assert once[0] == OTHERS[0] and once[2] == OTHERS[1]  # passed through untouched
    spec = pod_spec(once[1])
    recipe = RECIPES[component]
    native = recipe.native_sidecar or kind in ("Job", "CronJob")
    where = spec.get("initContainers", []) if native else spec["containers"]
    [added] = [c for c in where if c["name"] == component]
    assert spec["containers"][0]["name"] == "app"
    assert (added.get("restartPolicy") == "Always") is native
    assert added["image"] == f"{REPOSITORY}/{component}:0.1.0"
    assert added["ports"] == [{"name": recipe.admin_port_name, "containerPort": recipe.admin_port}]
    assert added["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": recipe.admin_port_name}
    assert added["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= set(added["resources"]["limits"])
    context = added["securityContext"]
    assert context["runAsNonRoot"] is True and context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    for flag in FLAGS[component]:
        if not flag.startswith("--inject-"):
            assert flag in added["args"]
    notes = pod_metadata(once[1]).get("annotations", {})
    if recipe.scrape:
        assert notes["prometheus.io/port"] == str(recipe.admin_port)
        assert notes["prometheus.io/scrape"] == "true"
    else:
        assert "prometheus.io/scrape" not in notes


def test_git_sync_shares_its_volume_read_only_with_the_app() -> None:
    [pod] = inject([copy.deepcopy(WORKLOADS["Pod"])], "git-sync")
    spec = pod["spec"]
    assert {"name": "podkit-git", "mountPath": "/git", "readOnly": True} in spec["containers"][0][
        "volumeMounts"
    ]
    assert {"name": "podkit-git", "emptyDir": {}} in spec["volumes"]
    assert spec["securityContext"]["fsGroup"] == 65533
    assert spec["initContainers"][0]["startupProbe"]["failureThreshold"] == 150


def test_the_log_streamer_reads_the_apps_files_and_the_downward_api() -> None:
    [pod] = inject([copy.deepcopy(WORKLOADS["Pod"])], "log-streamer")
    [streamer] = pod["spec"]["initContainers"]
    assert {"name": "podkit-logs", "mountPath": "/var/log/app"} in pod["spec"]["containers"][0][
        "volumeMounts"
    ]
    assert {"name": "podkit-logs", "mountPath": "/var/log/app", "readOnly": True} in streamer[
        "volumeMounts"
    ]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in streamer["env"]}
    assert env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["CONTAINER_NAME"] == "app"


def test_secret_env_and_config_map_are_wired() -> None:
    [pod] = inject([copy.deepcopy(WORKLOADS["Pod"])], "redis-ambassador")
    [ambassador] = pod["spec"]["initContainers"]
    assert ambassador["env"] == [{
        "name": "REDIS_AMBASSADOR_UPSTREAM_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "redis-auth", "key": "password"}},
    }]  # fmt: skip
    assert "--listen=127.0.0.1:6379" in ambassador["args"]
    [pod] = inject([copy.deepcopy(WORKLOADS["Pod"])], "statsd-adapter")
    adapter = pod["spec"]["containers"][1]
    assert {
        "name": "podkit-statsd-adapter-config",
        "mountPath": "/etc/statsd",
        "readOnly": True,
    } in adapter["volumeMounts"]
    assert {
        "name": "podkit-statsd-adapter-config",
        "configMap": {"name": "statsd-mapping", "defaultMode": 0o444},
    } in pod["spec"]["volumes"]


def test_a_given_flag_replaces_the_default() -> None:
    from podkit.kit.cli import parse

    out = inject_stream(
        yaml.safe_dump(WORKLOADS["Pod"]),
        parse(["inject", "statsd-adapter", "--web.listen-address=:9999"]),
    )
    args = yaml.safe_load(out)["spec"]["containers"][1]["args"]
    assert "--web.listen-address=:9102" not in args and "--web.listen-address=:9999" in args


def test_the_examples_own_pods_come_out_the_same_when_injected() -> None:
    """examples/statsd-adapter.yaml with its adapter taken out and injected again: the container
    the command writes runs what the hand-written one does."""
    docs = [d for d in yaml.safe_load_all((ROOT / "examples/statsd-adapter.yaml").read_text()) if d]
    pod = next(d for d in docs if d["kind"] == "Pod")
    written = pod["spec"]["containers"].pop()
    pod["metadata"].pop("annotations")
    pod["spec"].pop("volumes")
    out = inject(docs, "statsd-adapter")
    for doc in out:
        kubernetes_validate.validate(doc, "1.30", strict=True)
    injected = next(d for d in out if d["kind"] == "Pod")["spec"]["containers"][1]
    assert injected["image"] == written["image"]
    assert set(written["args"]) - set(injected["args"]) == {"--statsd.max-series=100000"}
    assert [p["containerPort"] for p in injected["ports"]] == [9102]


def run_cli(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podkit.kit.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_command_reads_stdin_and_says_what_is_wrong_in_one_line() -> None:
    pod = yaml.safe_dump(WORKLOADS["Pod"])
    done = run_cli("inject", "statsd-adapter", stdin=pod)
    assert done.returncode == 0, done.stderr
    assert "statsd-adapter" in done.stdout
    bad = run_cli("inject", "statsd-adapter", "--no-such-flag", stdin=pod)
    assert (bad.returncode, bad.stderr) == (
        2,
        "podkit inject: statsd-adapter has no flag --no-such-flag\n",
    )
    bad = run_cli("inject", "nope", stdin=pod)
    assert bad.returncode == 2 and bad.stderr.startswith(
        "podkit inject: no injection recipe for 'nope'"
    )
    bad = run_cli("inject", "git-sync", stdin="kind: [")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not YAML" in bad.stderr


def test_a_pod_already_using_the_admin_port_is_refused() -> None:
    pod = copy.deepcopy(WORKLOADS["Pod"])
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": 9102}]
    with pytest.raises(InjectError, match="already uses port 9102"):
        inject_stream(yaml.safe_dump(pod), Options("statsd-adapter"))


def test_the_image_repository_is_images_env_s() -> None:
    env = (ROOT / "images/images.env").read_text()
    assert f"\nREPOSITORY={REPOSITORY}\n" in env
