"""A real OpenSSH server for tests: ``sshd -D`` on a free loopback port with its own config.

Everything it needs lives in one directory: a generated ed25519 host key, a client key whose
public half is the only authorised key, a second client key that is *not* authorised, a
known_hosts file naming the host key for ``[127.0.0.1]:PORT``, and one that names another key.
The server runs with ``StrictModes no`` (tmp directories are not owned the way sshd wants) and
logs to its stderr, which a failing test shows. It is started and stopped by PID.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from pathlib import Path

from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child

INSTALL = "install OpenSSH (apt-get install openssh-server openssh-client)"


def find_sshd() -> str:
    for candidate in (shutil.which("sshd"), "/usr/sbin/sshd"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AssertionError(f"sshd not found: {INSTALL}")


def keygen(path: Path) -> Path:
    if shutil.which("ssh-keygen") is None:
        raise AssertionError(f"ssh-keygen not found: {INSTALL}")
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path


class SshServer:
    """sshd on 127.0.0.1:port; ``url(path)`` is an ssh:// URL for a repository at ``path``."""

    def __init__(self, base: Path) -> None:
        if shutil.which("ssh") is None:
            raise AssertionError(f"ssh not found: {INSTALL}")
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.port = free_port()
        self.host_key = keygen(base / "host_key")
        self.other_host_key = keygen(base / "other_host_key")
        self.client_key = keygen(base / "client_key")
        self.stranger_key = keygen(base / "stranger_key")
        self.authorized = base / "authorized_keys"
        self.authorized.write_text((base / "client_key.pub").read_text())
        self.known_hosts = base / "known_hosts"
        self.known_hosts.write_text(self._known_line(self.host_key))
        self.wrong_known_hosts = base / "wrong_known_hosts"
        self.wrong_known_hosts.write_text(self._known_line(self.other_host_key))
        for key in (self.client_key, self.stranger_key):
            key.chmod(0o600)
        self.config = base / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    "PidFile none",
                    "StrictModes no",
                    f"AuthorizedKeysFile {self.authorized}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "UsePAM no",
                    "LogLevel VERBOSE",
                    f"SetEnv PATH={os.environ.get('PATH', '/usr/bin:/bin')}",
                    "",
                ]
            )
        )
        self.child: Child | None = None

    def _known_line(self, key: Path) -> str:
        return f"[127.0.0.1]:{self.port} {Path(str(key) + '.pub').read_text().strip()}\n"

    def url(self, path: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        sshd = find_sshd()
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
        check = subprocess.run(
            [sshd, "-t", "-f", str(self.config)], capture_output=True, text=True, timeout=30
        )
        if check.returncode != 0:
            raise AssertionError(f"sshd rejects its test config: {check.stderr.strip()}")
        self.child = Child([sshd, "-D", "-e", "-f", str(self.config)])
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.child.stop()
            raise AssertionError(
                f"sshd did not start on 127.0.0.1:{self.port}: {self.child.stderr}"
            ) from None

    @property
    def log(self) -> str:
        return self.child.stderr if self.child is not None else ""

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
