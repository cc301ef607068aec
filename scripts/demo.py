"""`make demo`: runs every podkit component that exists on embedded defaults, prints where to look,
and stops everything cleanly on Ctrl-C (or SIGTERM).

Each part is a process started from this workspace; parts are added as components land. Every
port is on 127.0.0.1 and can be changed: ``--<name>-port=N`` or ``PODKIT_DEMO_<NAME>_PORT=N``
(``--help`` lists them), or ``--port-base=N`` to move them all to N, N+1, ...; all of them are
checked free before anything starts. ``make demo DEMO_ARGS="--port-base=20000"`` passes flags.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scripts" / "demo"

# name -> (default port, what listens there); UDP too where the name is in UDP_TOO
PORTS: dict[str, tuple[int, str]] = {
    "git-sync-admin": (9180, "git-sync's /, /healthz, /metrics"),
    "git-sync-web": (9181, "the web server for the synced tree"),
    "log-streamer-admin": (9182, "the log streamer's /healthz, /readyz, /metrics"),
    "redis": (6379, "the Redis ambassador (the app's one Redis)"),
    "redis-admin": (9121, "the Redis ambassador's admin endpoints"),
    "redis-master": (6390, "the Redis master"),
    "redis-replica": (6391, "the Redis replica"),
    "jmx-target": (9010, "the Java app's remote JMX"),
    "jmx": (9404, "the JMX adapter's /metrics"),
    "statsd-web": (9102, "the StatsD adapter's /metrics"),
    "statsd": (9125, "the StatsD adapter's StatsD input (UDP and TCP)"),
}
UDP_TOO = {"statsd"}


def env_name(name: str) -> str:
    return "PODKIT_DEMO_" + name.upper().replace("-", "_") + "_PORT"


def parse_ports(argv: list[str]) -> dict[str, int]:
    """The ports to use: flag, else env var, else ``--port-base`` + index, else the default."""
    parser = argparse.ArgumentParser(
        prog="scripts/demo.py",
        description="Run every podkit component on 127.0.0.1; Ctrl-C stops them all.",
    )
    parser.add_argument(
        "--port-base",
        type=int,
        default=int(os.environ.get("PODKIT_DEMO_PORT_BASE", "0")) or None,
        help="use ports N, N+1, ... in the order below (env PODKIT_DEMO_PORT_BASE)",
    )
    for name, (default, what) in PORTS.items():
        parser.add_argument(
            f"--{name}-port", type=int, help=f"{what} (env {env_name(name)}; default {default})"
        )
    args = vars(parser.parse_args(argv))
    chosen = {}
    for index, (name, (default, _)) in enumerate(PORTS.items()):
        flag = args[name.replace("-", "_") + "_port"]
        env = os.environ.get(env_name(name))
        if flag is not None:
            chosen[name] = flag
        elif env:
            chosen[name] = int(env)
        elif args["port_base"]:
            chosen[name] = args["port_base"] + index
        else:
            chosen[name] = default
    return chosen


def busy_ports(ports: dict[str, int]) -> list[str]:
    """One line for each port that is out of range, chosen twice, or already bound here."""
    problems = []
    seen: dict[int, str] = {}
    for name, port in ports.items():
        how = f"--{name}-port or {env_name(name)}"
        if not 0 < port < 65536:
            problems.append(f"port {port} for {PORTS[name][1]} is out of range ({how})")
            continue
        if port in seen:
            problems.append(f"port {port} is chosen for both {seen[port]} and {name} ({how})")
            continue
        seen[port] = name
        kinds = [socket.SOCK_STREAM] + ([socket.SOCK_DGRAM] if name in UDP_TOO else [])
        for kind in kinds:
            with socket.socket(socket.AF_INET, kind) as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError as exc:
                    proto = "TCP" if kind == socket.SOCK_STREAM else "UDP"
                    problems.append(
                        f"port {port}/{proto} for {PORTS[name][1]} is not free ({exc.strerror});"
                        f" choose another with {how}, or --port-base=N for all"
                    )
                    break
    return problems


@dataclass
class Part:
    title: str
    argv: list[str]
    ready_url: str
    urls: dict[str, str] = field(default_factory=dict)
    try_it: list[str] = field(default_factory=list)
    show: tuple[str, str] | None = None
    """(URL, prefix): after start-up, print the lines of that page that start with the prefix."""
    cleanup: list[Path] = field(default_factory=list)
    """Directories removed when the demo stops."""


def git_sync_parts(ports: dict[str, int]) -> list[Part]:
    """git-sync serving a local repository over HTTP, with a committer pushing every 5 s."""
    base = Path(tempfile.mkdtemp(prefix="podkit-demo-git-sync."))
    subprocess.run([sys.executable, str(DEMO / "git_committer.py"), "init", str(base)], check=True)
    root = base / "root"
    admin = f"http://127.0.0.1:{ports['git-sync-admin']}"
    page = f"http://127.0.0.1:{ports['git-sync-web']}/html/index.html"
    return [
        Part(
            title="git-sync (kubernetes/git-sync v4-compatible) syncing a local repository",
            argv=[
                sys.executable,
                "-m",
                "podkit.git_sync.cli",
                f"--repo=file://{base / 'site.git'}",
                f"--root={root}",
                "--link=html",
                "--period=1s",
                f"--http-bind=127.0.0.1:{ports['git-sync-admin']}",
                "--http-metrics",
                "--log-format=text",
            ],
            ready_url=admin + "/",  # 503 until the first sync
            urls={"status": admin + "/", "metrics": admin + "/metrics"},
            try_it=[f"ls -l {root}/html   # the link moves to a new worktree on each commit"],
            cleanup=[base],
        ),
        Part(
            title="a web server for the synced tree (the link moves: it serves the root)",
            argv=[
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "--directory",
                str(root),
                str(ports["git-sync-web"]),
            ],
            ready_url=page,
            urls={"git-sync page": page},
            try_it=[f"watch -n1 curl -s {page}   # a new commit every 5 s"],
            show=(page, "<h1>"),
        ),
        Part(
            title="a committer pushing a new index.html every 5 s",
            argv=[sys.executable, str(DEMO / "git_committer.py"), "loop", str(base), "5"],
            ready_url="",
        ),
    ]


def jmx_parts(ports: dict[str, int]) -> list[Part]:
    """A small JVM with remote JMX on 127.0.0.1, and the JMX adapter reading it."""
    java = shutil.which("java")
    if java is None:
        raise SystemExit("demo: the JMX part needs a JDK (apt-get install default-jdk-headless)")
    jmx = f"http://127.0.0.1:{ports['jmx']}"
    target = ports["jmx-target"]
    work = Path(tempfile.mkdtemp(prefix="podkit-demo-jmx."))
    config = work / "jmx-config.yaml"
    config.write_text(
        (DEMO / "jmx-config.yaml")
        .read_text()
        .replace("hostPort: 127.0.0.1:9010", f"hostPort: 127.0.0.1:{target}")
    )
    return [
        Part(
            title=f"a small Java app (DemoShop.java) with remote JMX on 127.0.0.1:{target}",
            argv=[
                java,
                f"-Dcom.sun.management.jmxremote.port={target}",
                f"-Dcom.sun.management.jmxremote.rmi.port={target}",
                "-Dcom.sun.management.jmxremote.host=127.0.0.1",
                "-Djava.rmi.server.hostname=127.0.0.1",
                "-Dcom.sun.management.jmxremote.authenticate=false",
                "-Dcom.sun.management.jmxremote.ssl=false",
                str(DEMO / "DemoShop.java"),
            ],
            ready_url="",
            cleanup=[work],
        ),
        Part(
            title="JMX adapter (jmx_exporter's config), persistent JMX connection",
            argv=[
                sys.executable,
                "-m",
                "podkit.jmx_adapter.cli",
                f"127.0.0.1:{ports['jmx']}",
                str(config),
                "--scrape-interval=2s",
                "--log-format=text",
            ],
            ready_url=jmx + "/readyz",
            urls={"metrics": jmx + "/metrics"},
            try_it=[f"curl -s {jmx}/metrics | grep -E '^(shop|jvm|jmx)_'"],
            show=(jmx + "/metrics", "shop_orders"),
        ),
    ]


def redis_parts(ports: dict[str, int]) -> list[Part]:
    """A Redis master and replica, the ambassador in front of them, and a client."""
    data = Path(tempfile.mkdtemp(prefix="podkit-demo-redis."))
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(data)]
    admin = f"http://127.0.0.1:{ports['redis-admin']}"
    master, replica, ambassador = (ports[n] for n in ("redis-master", "redis-replica", "redis"))
    return [
        Part(
            title=f"Redis master on 127.0.0.1:{master}",
            argv=["redis-server", "--port", str(master), *common, "--dbfilename", "master.rdb"],
            ready_url="",
            cleanup=[data],
        ),
        Part(
            title=f"Redis replica on 127.0.0.1:{replica}",
            argv=[
                "redis-server",
                "--port",
                str(replica),
                *common,
                "--dbfilename",
                "replica.rdb",
                "--replicaof",
                "127.0.0.1",
                str(master),
            ],
            ready_url="",
        ),
        Part(
            title=f"Redis ambassador: one Redis on 127.0.0.1:{ambassador}, reads to the replica",
            argv=[
                sys.executable,
                "-m",
                "podkit.redis_ambassador.cli",
                f"--listen=127.0.0.1:{ambassador}",
                f"--admin-listen=127.0.0.1:{ports['redis-admin']}",
                f"--master=127.0.0.1:{master}",
                f"--replica=127.0.0.1:{replica}",
                "--log-format=text",
            ],
            ready_url=admin + "/readyz",
            urls={"metrics": admin + "/metrics", "readiness": admin + "/readyz"},
            try_it=[
                f"redis-cli -p {ambassador} SET k v; redis-cli -p {ambassador} GET k",
                f"redis-cli -p {replica} INFO commandstats   # the replica served the GETs",
                "(a client's read right after its write still sees it: --consistency=session)",
            ],
        ),
        Part(
            title="a Redis client showing where its commands land",
            argv=[
                sys.executable,
                str(DEMO / "redis_client.py"),
                *(str(port) for port in (ambassador, master, replica)),
            ],
            ready_url="",
        ),
    ]


def log_streamer_parts(ports: dict[str, int]) -> list[Part]:
    """The log streamer printing every line of an app's two rotated log files once (started
    first, as a native sidecar is, so it sees the files from their first line)."""
    base = Path(tempfile.mkdtemp(prefix="podkit-demo-logs."))
    logs, state = base / "logs", base / "state"
    logs.mkdir()
    admin = f"http://127.0.0.1:{ports['log-streamer-admin']}"
    return [
        Part(
            title="log streamer: the app's rotated files, every line once, on its stdout",
            argv=[
                sys.executable,
                "-m",
                "podkit.log_streamer.cli",
                f"--path={logs}/*.log",
                f"--state-dir={state}",
                f"--admin-listen=127.0.0.1:{ports['log-streamer-admin']}",
                "--log-format=text",
            ],
            ready_url=admin + "/readyz",
            urls={"metrics": admin + "/metrics"},
            try_it=[f"ls {logs}   # a.log.1, a.log.2, ... appear as the app rotates"],
            show=(admin + "/metrics", "log_streamer_read_lines_total"),
            cleanup=[base],
        ),
        Part(
            title="an app writing a.log and b.log, rotating them every 10 lines",
            argv=[sys.executable, str(DEMO / "log_app.py"), str(logs), "2", "10"],
            ready_url="",
        ),
    ]


def parts(ports: dict[str, int]) -> list[Part]:
    statsd_web = f"http://127.0.0.1:{ports['statsd-web']}"
    statsd = ports["statsd"]
    return [
        *git_sync_parts(ports),
        *log_streamer_parts(ports),
        *redis_parts(ports),
        *jmx_parts(ports),
        Part(
            title="StatsD adapter (statsd_exporter-compatible), fed by a sample shop app",
            argv=[
                sys.executable,
                "-m",
                "podkit.statsd_adapter.cli",
                f"--statsd.mapping-config={DEMO / 'statsd-mapping.yaml'}",
                f"--web.listen-address=127.0.0.1:{ports['statsd-web']}",
                f"--statsd.listen-udp=127.0.0.1:{statsd}",
                f"--statsd.listen-tcp=127.0.0.1:{statsd}",
                "--web.enable-lifecycle",
                "--log.format=text",
            ],
            ready_url=statsd_web + "/readyz",
            urls={
                "metrics": statsd_web + "/metrics",
                "readiness": statsd_web + "/readyz",
            },
            try_it=[
                f"echo 'my.counter:1|c' > /dev/udp/127.0.0.1/{statsd}; curl -s {statsd_web}/metrics | grep my_counter",
                f"curl -X POST {statsd_web}/-/reload   # reload scripts/demo/statsd-mapping.yaml",
            ],
            show=(statsd_web + "/metrics", "shop_"),
        ),
        Part(
            title=f"sample app sending StatsD to 127.0.0.1:{statsd}",
            argv=[sys.executable, str(DEMO / "sample_app.py"), str(statsd)],
            ready_url="",
        ),
    ]


def wait_ready(url: str, timeout: float = 20.0) -> bool:
    if not url:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def main(argv: list[str]) -> int:
    ports = parse_ports(argv)
    problems = busy_ports(ports)
    if problems:
        for line in problems:
            print(f"demo: {line}", file=sys.stderr)
        return 2
    running: list[tuple[Part, subprocess.Popen[bytes]]] = []
    cleanup: list[Path] = []
    stop = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for part in parts(ports):
            cleanup.extend(part.cleanup)
            proc = subprocess.Popen(part.argv, cwd=ROOT, start_new_session=True)
            running.append((part, proc))
            if not wait_ready(part.ready_url):
                print(f"demo: {part.title} did not come up", file=sys.stderr)
                return 1
        print("\n=== podkit demo is running; Ctrl-C stops everything ===")
        for part, proc in running:
            print(f"\n* {part.title} (pid {proc.pid})")
            for label, url in part.urls.items():
                print(f"    {label:<10} {url}")
            for line in part.try_it:
                print(f"    try:       {line}")
        print(flush=True)
        time.sleep(2)
        for part, _ in running:
            if part.show is not None:
                url, prefix = part.show
                with urllib.request.urlopen(url, timeout=5) as response:
                    page = response.read().decode()
                shown = [
                    line
                    for line in page.splitlines()
                    if line.startswith(prefix) and "_bucket{" not in line
                ]
                print(f"--- {url} (lines starting with {prefix!r}, buckets left out) ---")
                print("\n".join(shown[:25]), flush=True)
        while not stop:
            for part, proc in running:
                if proc.poll() is not None:
                    print(f"demo: {part.title} exited with {proc.returncode}", file=sys.stderr)
                    return 1
            time.sleep(0.2)
        return 0
    finally:
        for _, proc in running:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in running:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
        print("demo: stopped", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
