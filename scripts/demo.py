"""`make demo`: runs every podkit component that exists on embedded defaults, prints where to look,
and stops everything cleanly on Ctrl-C (or SIGTERM).

Each part is a process started from this workspace; parts are added as components land.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scripts" / "demo"


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


def git_sync_parts() -> list[Part]:
    """git-sync serving a local repository over HTTP, with a committer pushing every 5 s."""
    base = Path(tempfile.mkdtemp(prefix="podkit-demo-git-sync."))
    subprocess.run([sys.executable, str(DEMO / "git_committer.py"), "init", str(base)], check=True)
    root = base / "root"
    admin = "http://127.0.0.1:9180"
    page = "http://127.0.0.1:9181/html/index.html"
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
                "--http-bind=127.0.0.1:9180",
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
                "9181",
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


def jmx_parts() -> list[Part]:
    """A small JVM with remote JMX on 127.0.0.1:9010, and the JMX adapter reading it."""
    java = shutil.which("java")
    if java is None:
        raise SystemExit("demo: the JMX part needs a JDK (apt-get install default-jdk-headless)")
    jmx = "http://127.0.0.1:9404"
    return [
        Part(
            title="a small Java app (DemoShop.java) with remote JMX on 127.0.0.1:9010",
            argv=[
                java,
                "-Dcom.sun.management.jmxremote.port=9010",
                "-Dcom.sun.management.jmxremote.rmi.port=9010",
                "-Dcom.sun.management.jmxremote.host=127.0.0.1",
                "-Djava.rmi.server.hostname=127.0.0.1",
                "-Dcom.sun.management.jmxremote.authenticate=false",
                "-Dcom.sun.management.jmxremote.ssl=false",
                str(DEMO / "DemoShop.java"),
            ],
            ready_url="",
        ),
        Part(
            title="JMX adapter (jmx_exporter's config), persistent JMX connection",
            argv=[
                sys.executable,
                "-m",
                "podkit.jmx_adapter.cli",
                "127.0.0.1:9404",
                str(DEMO / "jmx-config.yaml"),
                "--scrape-interval=2s",
                "--log-format=text",
            ],
            ready_url=jmx + "/readyz",
            urls={"metrics": jmx + "/metrics"},
            try_it=[f"curl -s {jmx}/metrics | grep -E '^(shop|jvm|jmx)_'"],
            show=(jmx + "/metrics", "shop_orders"),
        ),
    ]


def redis_parts() -> list[Part]:
    """A Redis master (6390) and replica (6391), the ambassador on 6379, and a client."""
    data = Path(tempfile.mkdtemp(prefix="podkit-demo-redis."))
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(data)]
    admin = "http://127.0.0.1:9121"
    return [
        Part(
            title="Redis master on 127.0.0.1:6390",
            argv=["redis-server", "--port", "6390", *common, "--dbfilename", "master.rdb"],
            ready_url="",
            cleanup=[data],
        ),
        Part(
            title="Redis replica on 127.0.0.1:6391",
            argv=[
                "redis-server",
                "--port",
                "6391",
                *common,
                "--dbfilename",
                "replica.rdb",
                "--replicaof",
                "127.0.0.1",
                "6390",
            ],
            ready_url="",
        ),
        Part(
            title="Redis ambassador: one Redis on 127.0.0.1:6379, reads to the replica",
            argv=[
                sys.executable,
                "-m",
                "podkit.redis_ambassador.cli",
                "--master=127.0.0.1:6390",
                "--replica=127.0.0.1:6391",
                "--log-format=text",
            ],
            ready_url=admin + "/readyz",
            urls={"metrics": admin + "/metrics", "readiness": admin + "/readyz"},
            try_it=[
                "redis-cli -p 6379 SET k v; redis-cli -p 6379 GET k",
                "redis-cli -p 6391 INFO commandstats   # the replica served the GETs",
                "(a client's read right after its write still sees it: --consistency=session)",
            ],
        ),
        Part(
            title="a Redis client showing where its commands land",
            argv=[sys.executable, str(DEMO / "redis_client.py"), "6379", "6390", "6391"],
            ready_url="",
        ),
    ]


def log_streamer_parts() -> list[Part]:
    """The log streamer printing every line of an app's two rotated log files once (started
    first, as a native sidecar is, so it sees the files from their first line)."""
    base = Path(tempfile.mkdtemp(prefix="podkit-demo-logs."))
    logs, state = base / "logs", base / "state"
    logs.mkdir()
    admin = "http://127.0.0.1:9182"
    return [
        Part(
            title="log streamer: the app's rotated files, every line once, on its stdout",
            argv=[
                sys.executable,
                "-m",
                "podkit.log_streamer.cli",
                f"--path={logs}/*.log",
                f"--state-dir={state}",
                "--admin-listen=127.0.0.1:9182",
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


def parts() -> list[Part]:
    statsd_web = "http://127.0.0.1:9102"
    return [
        *git_sync_parts(),
        *log_streamer_parts(),
        *redis_parts(),
        *jmx_parts(),
        Part(
            title="StatsD adapter (statsd_exporter-compatible), fed by a sample shop app",
            argv=[
                sys.executable,
                "-m",
                "podkit.statsd_adapter.cli",
                f"--statsd.mapping-config={DEMO / 'statsd-mapping.yaml'}",
                "--web.listen-address=127.0.0.1:9102",
                "--web.enable-lifecycle",
                "--log.format=text",
            ],
            ready_url=statsd_web + "/readyz",
            urls={
                "metrics": statsd_web + "/metrics",
                "readiness": statsd_web + "/readyz",
            },
            try_it=[
                "echo 'my.counter:1|c' > /dev/udp/127.0.0.1/9125; curl -s 127.0.0.1:9102/metrics | grep my_counter",
                "curl -X POST 127.0.0.1:9102/-/reload   # reload scripts/demo/statsd-mapping.yaml",
            ],
            show=(statsd_web + "/metrics", "shop_"),
        ),
        Part(
            title="sample app sending StatsD to 127.0.0.1:9125",
            argv=[sys.executable, str(DEMO / "sample_app.py"), "9125"],
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


def main() -> int:
    running: list[tuple[Part, subprocess.Popen[bytes]]] = []
    cleanup: list[Path] = []
    stop = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for part in parts():
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
    sys.exit(main())
