"""``podkit inject``: adds a podkit component to every workload of a YAML stream.

Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs (and ``List`` items)
get the component's container, built from its ``Recipe``: the arguments given on the command
line after the recipe's defaults (a default whose flag is given is left out), the shared
volume(s), the admin port with liveness and readiness (and for git-sync startup) probes,
requests and limits, a locked-down securityContext, and Prometheus scrape annotations for the
adapters and the ambassador. The sidecar and the ambassador run as native sidecars (an init
container with ``restartPolicy: Always``); adapters do too in Jobs and CronJobs, where an
ordinary container would keep the Job from completing. Other documents pass through untouched.
Injecting again replaces what an earlier run added, so the result is the same (idempotent).
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

from podkit.kit.recipes import RECIPES, Mount, Recipe

Doc = dict[str, Any]
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
CONFIG_VOLUME = "podkit-{component}-config"


class InjectError(Exception):
    """A workload or an option the component cannot be injected with; one line."""


@dataclass
class Options:
    """What ``podkit inject`` was asked for."""

    component: str
    args: list[str] = field(default_factory=list)
    configmap: str | None = None  # mounted read-only at config_path
    config_path: str = "/etc/podkit"
    secret_env: list[tuple[str, str, str]] = field(default_factory=list)  # (env, secret, key)
    warnings: list[str] = field(default_factory=list)


def flag_name(arg: str) -> str | None:
    if not arg.startswith("-"):
        return None
    return arg.split("=", 1)[0]


def container_for(recipe: Recipe, options: Options) -> Doc:
    given = {flag_name(arg) for arg in options.args} - {None}
    args = [arg for arg in recipe.default_args if flag_name(arg) not in given]
    if recipe.component == "jmx-adapter" and options.args and not options.args[0].startswith("-"):
        args = []  # jmx_exporter's positional [HOST:]PORT given by the user
    args += options.args
    mounts: list[Doc] = [
        {"name": m.volume, "mountPath": m.path, **({"readOnly": True} if m.read_only else {})}
        for m in recipe.mounts
    ]
    if options.configmap:
        mounts.append({
            "name": CONFIG_VOLUME.format(component=recipe.component),
            "mountPath": options.config_path,
            "readOnly": True,
        })  # fmt: skip
    port = recipe.admin_port_name

    def probe(path: str, **extra: int) -> Doc:
        return {"httpGet": {"path": path, "port": port}, **extra}

    container: Doc = {
        "name": recipe.component,
        "image": recipe.image(),
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "ports": [{"name": port, "containerPort": recipe.admin_port}],
    }
    env = [dict(item) for item in recipe.env] + [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for name, secret, key in options.secret_env
    ]
    if env:
        container["env"] = env
    if mounts:
        container["volumeMounts"] = mounts
    if recipe.startup_probe:
        container["startupProbe"] = probe("/readyz", periodSeconds=2, failureThreshold=150)
    container["livenessProbe"] = probe("/healthz", periodSeconds=10)
    container["readinessProbe"] = probe("/readyz", periodSeconds=5)
    container["resources"] = {
        "requests": {"cpu": recipe.requests[0], "memory": recipe.requests[1]},
        "limits": {"cpu": recipe.limits[0], "memory": recipe.limits[1]},
    }
    container["securityContext"] = {
        "runAsNonRoot": True,
        "runAsUser": recipe.user,
        "runAsGroup": recipe.user,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return container


def our_volumes(recipe: Recipe) -> set[str]:
    return {m.volume for m in recipe.mounts} | {CONFIG_VOLUME.format(component=recipe.component)}


def remove(recipe: Recipe, spec: Doc) -> None:
    """Take out what an earlier injection of ``recipe`` added."""
    for key in ("initContainers", "containers"):
        spec[key] = [c for c in spec.get(key, []) if c.get("name") != recipe.component]
        if not spec[key] and key == "initContainers":
            del spec[key]
    volumes = our_volumes(recipe)
    for container in spec.get("containers", []) + spec.get("initContainers", []):
        if "volumeMounts" in container:
            container["volumeMounts"] = [
                m for m in container["volumeMounts"] if m.get("name") not in volumes
            ]
            if not container["volumeMounts"]:
                del container["volumeMounts"]
    if "volumes" in spec:
        spec["volumes"] = [v for v in spec["volumes"] if v.get("name") not in volumes]
        if not spec["volumes"]:
            del spec["volumes"]


def add_app_mount(mount: Mount, spec: Doc, where: str, options: Options) -> None:
    for container in spec["containers"]:
        mounted = {m.get("mountPath") for m in container.get("volumeMounts", [])}
        if mount.app_path in mounted:
            options.warnings.append(
                f"{where}: container {container['name']} already mounts {mount.app_path};"
                f" {mount.volume} is not mounted there"
            )
            continue
        container.setdefault("volumeMounts", []).append(
            {"name": mount.volume, "mountPath": mount.app_path}
            | ({"readOnly": True} if mount.app_read_only else {})
        )


def inject_pod(
    recipe: Recipe, metadata: Doc, spec: Doc, in_job: bool, where: str, options: Options
) -> None:
    """Add the component to one pod template (``metadata``, ``spec``), in place."""
    if not isinstance(spec.get("containers"), list) or not spec["containers"]:
        raise InjectError(f"{where}: the pod has no containers")
    remove(recipe, spec)
    for container in spec["containers"] + spec.get("initContainers", []):
        for port in container.get("ports", []):
            if port.get("containerPort") == recipe.admin_port:
                raise InjectError(
                    f"{where}: container {container['name']} already uses port"
                    f" {recipe.admin_port}, the {recipe.component}'s admin port"
                )
    container = container_for(recipe, options)
    if recipe.container_name_env:
        container.setdefault("env", []).append(
            {"name": recipe.container_name_env, "value": spec["containers"][0]["name"]}
        )
    if recipe.native_sidecar or in_job:
        container["restartPolicy"] = "Always"
        spec["initContainers"] = [container, *spec.get("initContainers", [])]
    else:
        spec["containers"].append(container)
    volumes = spec.setdefault("volumes", [])
    for mount in recipe.mounts:
        volumes.append({"name": mount.volume, **copy.deepcopy(mount.source)})
        if mount.app_path:
            add_app_mount(mount, spec, where, options)
    if options.configmap:
        volumes.append({
            "name": CONFIG_VOLUME.format(component=recipe.component),
            "configMap": {"name": options.configmap, "defaultMode": 0o444},
        })  # fmt: skip
    if recipe.fs_group:
        context = spec.setdefault("securityContext", {})
        if context.setdefault("fsGroup", recipe.user) != recipe.user:
            options.warnings.append(
                f"{where}: fsGroup {context['fsGroup']} is kept; {recipe.component} (user"
                f" {recipe.user}) must be able to write its volume"
            )
    if recipe.scrape:
        notes = metadata.setdefault("annotations", {})
        ours = {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(recipe.admin_port),
            "prometheus.io/path": "/metrics",
        }
        port = notes.get("prometheus.io/port")
        if port is not None and port != ours["prometheus.io/port"]:
            options.warnings.append(
                f"{where}: prometheus.io/port is {port} already; the annotations are kept"
            )
        else:
            notes.update(ours)


def pod_templates(doc: Doc) -> list[tuple[Doc, Doc, bool]]:
    """(metadata, spec, in a Job) of each pod template in a document; none for other kinds."""
    kind = doc.get("kind")
    if kind == "Pod":
        return [(doc.setdefault("metadata", {}), doc.setdefault("spec", {}), False)]
    if kind in WORKLOADS:
        template = doc["spec"]["template"]
        return [(template.setdefault("metadata", {}), template["spec"], kind == "Job")]
    if kind == "CronJob":
        template = doc["spec"]["jobTemplate"]["spec"]["template"]
        return [(template.setdefault("metadata", {}), template["spec"], True)]
    if kind == "List":
        return [t for item in doc.get("items", []) for t in pod_templates(item)]
    return []


def inject_stream(text: str, options: Options) -> str:
    """The YAML stream ``text`` with the component added to every workload in it."""
    recipe = RECIPES.get(options.component)
    if recipe is None:
        raise InjectError(
            f"no injection recipe for {options.component!r} (known: {', '.join(sorted(RECIPES))})"
        )
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise InjectError(f"the input is not YAML: {' '.join(str(exc).split())}") from None
    out = []
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise InjectError(f"document {index + 1} is not a mapping")
        name = doc.get("metadata", {}).get("name", f"#{index + 1}")
        try:
            for metadata, spec, in_job in pod_templates(doc):
                inject_pod(recipe, metadata, spec, in_job, f"{doc['kind']} {name}", options)
        except (KeyError, TypeError) as exc:
            raise InjectError(f"{doc.get('kind')} {name}: not a valid workload ({exc})") from None
        out.append(doc)
    return yaml.safe_dump_all(out, sort_keys=False, default_flow_style=False)


def known_flags(component: str) -> set[str] | None:
    """Every flag of the component's settings (``--x`` and ``--no-x``), or None when it is
    not installed."""
    import importlib.metadata

    points = importlib.metadata.entry_points(group="podkit.components", name=component)
    for point in points:
        settings = point.load().settings_class
        flags: set[str] = set()
        for decl in settings.declarations().values():
            for flag in decl.flags:
                flags.add(flag)
                if flag.startswith("--"):
                    flags.add("--no-" + flag[2:])
        return flags
    return None


def check_flags(options: Options) -> None:
    flags = known_flags(options.component)
    if flags is None:
        return
    for arg in options.args:
        name = flag_name(arg)
        if name is not None and name not in flags:
            raise InjectError(f"{options.component} has no flag {name}")


def warn(options: Options) -> None:
    for line in options.warnings:
        print(f"podkit inject: warning: {line}", file=sys.stderr)
