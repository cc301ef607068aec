"""Fixtures for the JMX adapter tests: a real JVM with remote JMX on a free loopback port.

The JVM runs ``java/PodkitTestApp.java`` (the tests' own MBeans), compiled with javac once per
session into a temporary directory; every JVM is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from podkit.jmx_adapter.config import Config
from podkit.jmx_adapter.engine import RuleEngine
from podkit.jmx_adapter.helper import Helper, compile_helper
from tests.jmx_adapter.jmx_support import KEYSTORE_PASSWORD
from tests.support.ports import free_port

HERE = Path(__file__).parent


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{tool} not found: the JMX adapter tests need a JDK (apt-get install openjdk-17-jdk-headless)"
        )
    return path


@dataclass
class Jvm:
    port: int
    proc: subprocess.Popen[str]

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{self.port}/jmxrmi"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture(scope="session")
def test_app_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    javac = _need("javac")
    _need("java")
    out = tmp_path_factory.mktemp("test-app")
    subprocess.run([javac, "-d", str(out), str(HERE / "java" / "PodkitTestApp.java")], check=True)
    return out


@pytest.fixture(scope="session")
def helper_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide cache for the persistent backend's compiled helper (compiled once)."""
    cache = tmp_path_factory.mktemp("helper-cache")
    compile_helper(cache)
    return cache


@pytest.fixture
async def helper(helper_cache: Path) -> AsyncIterator[Helper]:
    """A helper JVM of the test's own (stopped afterwards)."""
    one = Helper(cache_dir=helper_cache)
    yield one
    await one.close()


EngineFor = Callable[[Config], Awaitable[RuleEngine]]


@pytest.fixture
def engine_for(helper: Helper) -> EngineFor:
    """A rule engine with a config loaded, in the test's helper JVM."""

    async def make(config: Config) -> RuleEngine:
        engine = RuleEngine(helper)
        await engine.load(config)
        return engine

    return make


JvmFactory = Callable[..., Jvm]


def _start(
    classes: Path,
    port: int | None = None,
    *,
    props: dict[str, str] | None = None,
    auth: Path | None = None,
    ssl: Path | None = None,
) -> Jvm:
    port = port or free_port()
    args = [
        "java",
        "-XX:+UseSerialGC",
        "-Xmx64m",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        str(classes),
        f"-Dcom.sun.management.jmxremote.port={port}",
        f"-Dcom.sun.management.jmxremote.rmi.port={port}",
        "-Dcom.sun.management.jmxremote.host=127.0.0.1",
        "-Djava.rmi.server.hostname=127.0.0.1",
    ]
    if ssl is not None:
        args += [
            "-Dcom.sun.management.jmxremote.ssl=true",
            "-Dcom.sun.management.jmxremote.registry.ssl=true",
            f"-Djavax.net.ssl.keyStore={ssl}",
            f"-Djavax.net.ssl.keyStorePassword={KEYSTORE_PASSWORD}",
        ]
    else:
        args.append("-Dcom.sun.management.jmxremote.ssl=false")
    if auth is not None:
        args += [
            "-Dcom.sun.management.jmxremote.authenticate=true",
            f"-Dcom.sun.management.jmxremote.password.file={auth / 'jmx.password'}",
            f"-Dcom.sun.management.jmxremote.access.file={auth / 'jmx.access'}",
        ]
    else:
        args.append("-Dcom.sun.management.jmxremote.authenticate=false")
    args += [f"-D{k}={v}" for k, v in (props or {}).items()]
    args.append("PodkitTestApp")
    env = {k: v for k, v in os.environ.items() if k != "JAVA_TOOL_OPTIONS"}
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "READY":
        rest = line + (proc.stdout.read() if proc.poll() is not None else "")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        raise RuntimeError(f"the test JVM did not start: {rest[:500]}")
    return Jvm(port, proc)


@pytest.fixture(scope="session")
def jvm(test_app_classes: Path) -> Iterator[Jvm]:
    """One JVM shared by the tests that only read from it."""
    started = _start(test_app_classes)
    yield started
    started.stop()


@pytest.fixture
def start_jvm(test_app_classes: Path) -> Iterator[JvmFactory]:
    """Start JVMs of a test's own (slow getters, passwords, restarts); all stopped afterwards."""
    started: list[Jvm] = []

    def start(port: int | None = None, **kwargs: object) -> Jvm:
        one = _start(test_app_classes, port, **kwargs)  # type: ignore[arg-type]
        started.append(one)
        return one

    yield start
    for one in started:
        one.stop()


@pytest.fixture
def auth_dir(tmp_path: Path) -> Path:
    """JMX password and access files for user ``monitor`` / password ``s3cret``."""
    password = tmp_path / "jmx.password"
    password.write_text("monitor s3cret\n")
    password.chmod(0o600)
    access = tmp_path / "jmx.access"
    access.write_text("monitor readonly\n")
    access.chmod(0o600)
    return tmp_path


@pytest.fixture(scope="session")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed key for 127.0.0.1, used as the target's keystore and the client's truststore."""
    keytool = _need("keytool")
    path = tmp_path_factory.mktemp("tls") / "jmx.p12"
    subprocess.run(
        [
            keytool,
            "-genkeypair",
            "-alias",
            "jmx",
            "-keyalg",
            "EC",
            "-dname",
            "CN=127.0.0.1",
            "-ext",
            "SAN=ip:127.0.0.1",
            "-validity",
            "2",
            "-storetype",
            "PKCS12",
            "-keystore",
            str(path),
            "-storepass",
            KEYSTORE_PASSWORD,
            "-keypass",
            KEYSTORE_PASSWORD,
        ],
        check=True,
        capture_output=True,
    )
    return path
