"""Playing an example manifest as shipped, with podman 4.3, and saying exactly what had to change.

``shipped(example)`` loads ``examples/<example>`` and makes only the changes podman 4.3 or this
machine force, each recorded as a ``Change`` (what and why) and printed when the pod is played:

- a third-party image becomes its stand-in (tests/e2e/standins/*, whose ``io.podkit.stands-for``
  label names the image): no registry can be reached here;
- native sidecars (init containers with ``restartPolicy: Always``) become ordinary containers:
  podman 4.3 runs init containers to completion;
- every ``containerPort`` gets ``hostIP: 127.0.0.1`` and a free ``hostPort``: podman 4.3 publishes
  a port without ``hostPort`` on the host's every interface under the same number (two pods with
  6379 collide), where Kubernetes publishes nothing; the host reaches the pod on loopback only;
- a Downward API env var podman 4.3 cannot resolve (``metadata.namespace``, ``spec.nodeName``)
  gets the value Kubernetes would give;
- a ``Secret`` document becomes a podman secret (a JSON map of base64 values): podman 4.3 stores a
  Secret document as YAML and then cannot read it for ``secretKeyRef``.

A test adds its own changes with ``Shipped.change`` (always with the reason). ``play()`` runs the
pods, polls every probe of the manifest from the host as the kubelet would (``Prober``), and on
any failure prints each container's logs, the pods' state and podman's events.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.pods import ROOT, image_name, podman, podman_env
from tests.support.ports import free_port

Doc = dict[str, Any]


@dataclass(frozen=True)
class Change:
    what: str
    why: str


@functools.cache
def standins() -> dict[str, str]:
    """Third-party image named in the examples -> the stand-in image that replaces it."""
    found = {}
    for dockerfile in sorted((ROOT / "tests/e2e/standins").glob("*/Dockerfile")):
        for line in dockerfile.read_text().splitlines():
            if line.startswith("LABEL io.podkit.stands-for="):
                found[line.split("=", 1)[1].strip('"')] = (
                    f"localhost/podkit-e2e/{dockerfile.parent.name}:dev"
                )
    return found


def containers(pod: Doc) -> list[Doc]:
    spec = pod["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


@dataclass
class Shipped:
    """An example's documents, the changes made to them, and the host ports chosen."""

    example: str
    docs: list[Doc]
    changes: list[Change] = field(default_factory=list)
    # (pod, container, port name or number as text) -> host port on 127.0.0.1
    ports: dict[tuple[str, str, str], int] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)

    def pods(self) -> list[Doc]:
        return [doc for doc in self.docs if doc["kind"] == "Pod"]

    def pod(self, name: str) -> Doc:
        [found] = [doc for doc in self.pods() if doc["metadata"]["name"] == name]
        return found

    def change(self, what: str, why: str, edit: Callable[[Shipped], None]) -> None:
        """Apply ``edit`` and record it, with its reason."""
        edit(self)
        self.changes.append(Change(what, why))

    def host_port(self, pod: str, port: str | int) -> int:
        """The 127.0.0.1 port a pod's container port (name or number) is published on."""
        for (pod_name, _, key), host in self.ports.items():
            if pod_name == pod and key == str(port):
                return host
        raise KeyError(f"{pod} publishes no port {port}")

    def report(self) -> str:
        lines = [f"e2e: {self.example} is played with these changes:"]
        lines += [f"  - {c.what}\n      because {c.why}" for c in self.changes] or ["  (none)"]
        return "\n".join(lines)


def shipped(example: str, text: str | None = None) -> Shipped:
    """``examples/<example>`` (or the manifest ``text`` under that name) with only the changes
    podman 4.3 and this machine force."""
    label = example
    if text is None:
        label, text = f"examples/{example}", (ROOT / "examples" / example).read_text()
    docs = [doc for doc in yaml.safe_load_all(text) if doc]
    play = Shipped(label, docs)
    for pod in play.pods():
        name = pod["metadata"]["name"]
        for container in containers(pod):
            image = container["image"]
            if "/podkit/" in image:
                wanted = image_name(image.rsplit("/", 1)[1].split(":")[0])
                assert image == wanted, f"{example} names {image}, `make images` builds {wanted}"
            elif image in standins():
                container["image"] = standins()[image]
                play.changes.append(Change(
                    f"{name}/{container['name']}: image {image} -> {container['image']}",
                    "no registry can be reached here; the stand-in (tests/e2e/standins) keeps "
                    "the image's conventions (user, paths, entry point)",
                ))  # fmt: skip
        spec = pod["spec"]
        sidecars = [c for c in spec.get("initContainers", []) if c.get("restartPolicy") == "Always"]
        for sidecar in sidecars:
            spec["initContainers"].remove(sidecar)
            sidecar.pop("restartPolicy")
            spec["containers"].insert(0, sidecar)
            play.changes.append(Change(
                f"{name}/{sidecar['name']}: native sidecar (init container, restartPolicy: Always)"
                " -> an ordinary container started first; its probes are still polled",
                "podman 4.3 runs init containers to completion and knows no native sidecars, so "
                "the startup probe cannot hold the other containers back here",
            ))  # fmt: skip
        if "initContainers" in spec and not spec["initContainers"]:
            del spec["initContainers"]
        for container in containers(pod):
            for port in container.get("ports", []):
                host = free_port()
                port["hostPort"], port["hostIP"] = host, "127.0.0.1"
                play.ports[(name, container["name"], str(port["containerPort"]))] = host
                if "name" in port:
                    play.ports[(name, container["name"], port["name"])] = host
                play.changes.append(Change(
                    f"{name}/{container['name']}: containerPort {port['containerPort']} "
                    f"published on 127.0.0.1:{host}",
                    "podman 4.3 publishes a port without hostPort on every host interface under "
                    "its own number (pods collide), where Kubernetes publishes none; the host "
                    "probes and scrapes the pod on loopback",
                ))  # fmt: skip
    for pod in play.pods():
        downward_values(play, pod)
    for secret in [doc for doc in docs if doc["kind"] == "Secret"]:
        docs.remove(secret)
        data = dict(secret.get("data", {}))
        for key, value in secret.get("stringData", {}).items():
            data[key] = base64.b64encode(value.encode()).decode()
        play.secrets[secret["metadata"]["name"]] = data
        play.changes.append(Change(
            f"Secret {secret['metadata']['name']} -> a podman secret holding the same keys",
            "podman 4.3 stores a Secret document as YAML but reads secretKeyRef as a JSON map",
        ))  # fmt: skip
    return play


# fieldRef paths podman 4.3 resolves itself; the others get the value Kubernetes would give
PODMAN_FIELD_PATHS = {"metadata.name", "metadata.uid", "metadata.labels", "metadata.annotations"}


def downward_values(play: Shipped, pod: Doc) -> None:
    """Downward API env vars podman 4.3 cannot resolve become the value Kubernetes would set."""
    name = pod["metadata"]["name"]
    known = {
        "metadata.namespace": pod["metadata"].get("namespace", "default"),
        "spec.nodeName": socket.gethostname(),
        "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
    }
    for container in containers(pod):
        for env in container.get("env", []):
            path = env.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            if path is None or path.split("[")[0] in PODMAN_FIELD_PATHS:
                continue
            assert path in known, f"{name}: no stand-in value for fieldRef {path}"
            env.pop("valueFrom")
            env["value"] = known[path]
            play.changes.append(Change(
                f"{name}/{container['name']}: env {env['name']} (fieldRef {path}) -> "
                f"{known[path]!r}, the value Kubernetes would give here",
                f"podman 4.3 resolves no Downward API fieldRef but {sorted(PODMAN_FIELD_PATHS)}",
            ))  # fmt: skip


# --- probes ---------------------------------------------------------------------------------


@dataclass
class Probe:
    pod: str
    container: str
    kind: str  # startupProbe, livenessProbe, readinessProbe
    url: str
    period: float
    failure_threshold: int
    timeout: float
    initial_delay: float
    successes: int = 0
    failures: int = 0  # consecutive
    worst: int = 0  # the most consecutive failures seen
    last_error: str = ""

    def poll(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                ok = 200 <= response.status < 400
                self.last_error = "" if ok else f"HTTP {response.status}"
        except OSError as exc:
            ok, self.last_error = False, str(exc)
        if ok:
            self.successes += 1
            self.failures = 0
        else:
            self.failures += 1
            self.worst = max(self.worst, self.failures)
        return ok


class Prober:
    """Polls every probe of the played pods from the host, at each probe's period, with the
    kubelet's rules: liveness and readiness wait for the startup probe to succeed; a startup
    probe failing ``failureThreshold`` times, or a liveness probe failing that many times in a
    row, is a failure of the test (the kubelet would restart the container)."""

    def __init__(self, play: Shipped) -> None:
        self.probes: list[Probe] = []
        for pod in play.pods():
            name = pod["metadata"]["name"]
            for container in containers(pod):
                for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                    if kind not in container:
                        continue
                    spec = container[kind]
                    assert set(spec) & {"httpGet", "tcpSocket", "exec", "grpc"} == {"httpGet"}, (
                        f"{name}/{container['name']} {kind}: only httpGet probes are polled here"
                    )
                    get = spec["httpGet"]
                    port = play.ports.get((name, container["name"], str(get["port"])))
                    assert port is not None, f"{name}/{container['name']}: no port {get['port']}"
                    self.probes.append(Probe(
                        name, container["name"], kind,
                        f"http://127.0.0.1:{port}{get.get('path', '/')}",
                        float(spec.get("periodSeconds", 10)),
                        int(spec.get("failureThreshold", 3)),
                        float(spec.get("timeoutSeconds", 1)),
                        float(spec.get("initialDelaySeconds", 0)),
                    ))  # fmt: skip
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()

    def _started(self, probe: Probe) -> bool:
        return all(
            p.successes > 0
            for p in self.probes
            if p.kind == "startupProbe" and (p.pod, p.container) == (probe.pod, probe.container)
        )

    def _run(self) -> None:
        due = {id(p): self.started + p.initial_delay for p in self.probes}
        while not self._stop.is_set():
            now = time.monotonic()
            for probe in self.probes:
                if now < due[id(probe)]:
                    continue
                if probe.kind == "startupProbe" and probe.successes:
                    continue
                if probe.kind != "startupProbe" and not self._started(probe):
                    continue
                probe.poll()
                due[id(probe)] = now + probe.period
            self._stop.wait(0.2)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def problems(self) -> list[str]:
        found = []
        for p in self.probes:
            where = f"{p.pod}/{p.container} {p.kind} {p.url}"
            if p.kind in ("startupProbe", "livenessProbe") and p.worst >= p.failure_threshold:
                found.append(f"{where} failed {p.worst} times in a row ({p.last_error})")
        return found

    def wait_ready(self, timeout: float = 90) -> None:
        """Until every readiness probe has succeeded (and none failed its threshold)."""
        deadline = time.monotonic() + timeout
        while True:
            problems = self.problems()
            assert not problems, "\n".join(problems)
            waiting = [
                f"{p.pod}/{p.container} {p.kind} {p.url} ({p.last_error or 'not polled yet'})"
                for p in self.probes
                if p.kind in ("readinessProbe", "startupProbe") and not p.successes
            ]
            if not waiting:
                return
            assert time.monotonic() < deadline, "never ready:\n" + "\n".join(waiting)
            time.sleep(0.2)

    def check(self) -> None:
        """Every probe was polled, succeeded, and none failed past its threshold."""
        problems = self.problems()
        for p in self.probes:
            # a probe whose period is longer than the test has run is polled once more now
            if not p.successes and not p.poll():
                problems.append(f"{p.pod}/{p.container} {p.kind} {p.url} never succeeded")
        assert not problems, "\n".join(problems)
        polled = sum(p.successes + p.failures for p in self.probes)
        print(f"e2e: {len(self.probes)} probes polled {polled} times, all within their thresholds")


# --- playing ---------------------------------------------------------------------------------


def diagnose(play: Shipped, started: float) -> str:
    """Each container's logs, the pods' state and podman's events since the play began."""
    parts = [play.report()]
    for pod in play.pods():
        name = pod["metadata"]["name"]
        parts.append(podman("pod", "ps", "--filter", f"name=^{name}$", check=False).stdout)
        parts.append(podman("ps", "-a", "--filter", f"pod={name}", check=False).stdout)
        for container in containers(pod):
            full = f"{name}-{container['name']}"
            logs = podman("logs", "--tail", "60", full, check=False)
            parts.append(f"--- logs of {full} ---\n{logs.stdout}{logs.stderr}")
    since = f"{int(time.time() - started) + 2}s"
    events = podman("events", "--stream=false", "--since", since, check=False)
    parts.append(f"--- podman events (last {since}) ---\n{events.stdout[-6000:]}{events.stderr}")
    return "\n".join(parts)


def clear(shipped: Shipped) -> None:
    """Remove the manifest's pods, if any are there, by name."""
    for pod in shipped.pods():
        name = pod["metadata"]["name"]
        if podman("pod", "exists", name, check=False).returncode == 0:
            podman("pod", "rm", "-f", name, check=False)


@contextmanager
def play(shipped: Shipped) -> Iterator[Prober]:
    """``podman kube play`` the documents; yields the running ``Prober``. On a failure, prints
    ``diagnose``; always tears the pods down and removes the secrets."""
    started = time.time()
    handle, name = tempfile.mkstemp(suffix=".yaml", prefix="podkit-e2e-")
    with os.fdopen(handle, "w") as out:
        yaml.safe_dump_all(shipped.docs, out)
    manifest = Path(name)
    print(shipped.report())
    try:
        for secret, data in shipped.secrets.items():
            podman("secret", "rm", secret, check=False)
            created = subprocess.run(
                ["podman", "secret", "create", secret, "-"], input=json.dumps(data),
                env=podman_env(), capture_output=True, text=True,
            )  # fmt: skip
            assert created.returncode == 0, created.stderr
        clear(shipped)  # a pod left by an earlier run that failed half-way
        played = podman("kube", "play", str(manifest), check=False)
        assert played.returncode == 0, played.stdout + played.stderr
        with Prober(shipped) as prober:
            yield prober
    except BaseException:
        print(diagnose(shipped, started))
        raise
    finally:
        podman("kube", "down", str(manifest), check=False)
        clear(shipped)  # kube down leaves a pod whose play failed half-way
        for secret in shipped.secrets:
            podman("secret", "rm", secret, check=False)
        manifest.unlink(missing_ok=True)
