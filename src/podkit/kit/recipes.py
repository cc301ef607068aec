"""How each podkit component is added to a pod: one ``Recipe`` per component.

A recipe holds what the component's example manifest shows a user would write by hand: the
container's name, image, default arguments, admin port and probes, volumes, user, resources,
whether it runs as a native sidecar, and whether Prometheus should scrape the pod.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from typing import Any

# images/images.env's REPOSITORY (a test checks that they agree)
REPOSITORY = "ghcr.io/podkit"


@dataclass(frozen=True)
class Mount:
    """A volume the recipe adds: mounted in the component at ``path``, and in the app's
    containers at ``app_path`` (read-only) when that is set."""

    volume: str
    path: str
    source: dict[str, Any] = field(default_factory=lambda: {"emptyDir": {}})
    read_only: bool = False
    app_path: str | None = None
    app_read_only: bool = True


@dataclass(frozen=True)
class Recipe:
    component: str
    distribution: str
    pattern: str  # sidecar, ambassador, adapter
    admin_port: int
    admin_port_name: str
    user: int
    default_args: tuple[str, ...]
    mounts: tuple[Mount, ...] = ()
    native_sidecar: bool = False  # always; adapters become one only in Jobs and CronJobs
    scrape: bool = False  # Prometheus scrape annotations on the pod
    startup_probe: bool = False
    requests: tuple[str, str] = ("50m", "64Mi")
    limits: tuple[str, str] = ("500m", "256Mi")
    env: tuple[dict[str, Any], ...] = ()
    fs_group: bool = False  # the pod's fsGroup becomes the component's group (shared volume)
    container_name_env: str | None = None  # env var set to the app's (first) container name

    def image(self) -> str:
        try:
            version = importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            raise LookupError(f"{self.distribution} is not installed") from None
        return f"{REPOSITORY}/{self.component}:{version}"


RECIPES: dict[str, Recipe] = {
    recipe.component: recipe
    for recipe in (
        Recipe(
            component="git-sync",
            distribution="podkit-git-sync",
            pattern="sidecar",
            admin_port=8081,
            admin_port_name="git-sync",
            user=65533,
            default_args=("--root=/git", "--http-bind=:8081", "--http-metrics"),
            mounts=(
                Mount("podkit-git", "/git", app_path="/git"),
                Mount("podkit-git-sync-tmp", "/tmp"),  # noqa: S108 (an emptyDir in the pod)
            ),
            native_sidecar=True,
            startup_probe=True,
            requests=("20m", "64Mi"),
            fs_group=True,
        ),
        Recipe(
            component="log-streamer",
            distribution="podkit-log-streamer",
            pattern="sidecar",
            admin_port=2020,
            admin_port_name="admin",
            user=65532,
            default_args=(
                "--path=/var/log/app/*.log",
                "--state-dir=/var/lib/log-streamer",
                "--admin-listen=:2020",
            ),
            mounts=(
                # the app writes its files there; the streamer only reads them
                Mount(
                    "podkit-logs",
                    "/var/log/app",
                    read_only=True,
                    app_path="/var/log/app",
                    app_read_only=False,
                ),
                Mount("podkit-log-streamer-state", "/var/lib/log-streamer"),
            ),
            native_sidecar=True,  # starts before the app, stops after it: no line is lost
            requests=("20m", "48Mi"),
            fs_group=True,
            # the Downward API: which pod, namespace and node the lines come from
            env=tuple(
                {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}
                for name, path in (
                    ("POD_NAME", "metadata.name"),
                    ("POD_NAMESPACE", "metadata.namespace"),
                    ("NODE_NAME", "spec.nodeName"),
                )
            ),
            container_name_env="CONTAINER_NAME",
        ),
        Recipe(
            component="redis-ambassador",
            distribution="podkit-redis-ambassador",
            pattern="ambassador",
            admin_port=9121,
            admin_port_name="ambassador",
            user=65532,
            default_args=("--listen=127.0.0.1:6379", "--admin-listen=:9121"),
            native_sidecar=True,  # up before the app's first connection
            scrape=True,
            limits=("1", "256Mi"),
        ),
        Recipe(
            component="statsd-adapter",
            distribution="podkit-statsd-adapter",
            pattern="adapter",
            admin_port=9102,
            admin_port_name="metrics",
            user=65532,
            default_args=(
                "--statsd.listen-udp=127.0.0.1:9125",
                "--statsd.listen-tcp=127.0.0.1:9125",
                "--web.listen-address=:9102",
            ),
            scrape=True,
        ),
        Recipe(
            component="jmx-adapter",
            distribution="podkit-jmx-adapter",
            pattern="adapter",
            admin_port=9404,
            admin_port_name="metrics",
            user=65532,
            default_args=("9404",),  # jmx_exporter's [HOST:]PORT; the config path follows
            mounts=(Mount("podkit-jmx-adapter-tmp", "/tmp"),),  # noqa: S108 (an emptyDir)
            scrape=True,
            requests=("50m", "128Mi"),
            env=({"name": "JAVA_TOOL_OPTIONS", "value": "-Xmx64m -XX:+UseSerialGC"},),
        ),
    )
}
