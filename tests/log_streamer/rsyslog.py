"""A real rsyslogd (Debian's ``rsyslog`` and ``rsyslog-relp``) as the syslog and RELP receiver.

Runs in the foreground with a private config and work directory, inputs bound to loopback on
ephemeral ports, and writes each message's MSG part alone, one per line, to ``received.log``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.support.ports import free_port, wait_for_port
from tests.support.waits import wait_until

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"


class Rsyslog:
    """``rsyslogd -n -f CONF -i PIDFILE`` with imtcp and imrelp; start/stop/restart by PID."""

    def __init__(self, directory: Path, tls: dict[str, Path] | None = None) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "work").mkdir(exist_ok=True)
        self.tcp_port = free_port()
        self.relp_port = free_port()
        self.received = self.dir / "received.log"
        self.pidfile = self.dir / "rsyslogd.pid"
        self.proc: subprocess.Popen[bytes] | None = None
        tls_params = ""
        if tls is not None:
            tls_params = (
                f' tls="on" tls.caCert="{tls["ca"]}" tls.myCert="{tls["cert"]}"'
                f' tls.myPrivKey="{tls["key"]}" tls.authMode="certvalid"'
            )
        self.conf = self.dir / "rsyslog.conf"
        self.conf.write_text(
            f'global(workDirectory="{self.dir / "work"}" maxMessageSize="256k"\n'
            '       parser.escapeControlCharactersOnReceive="off")\n'
            'module(load="imtcp")\n'
            'module(load="imrelp")\n'
            'template(name="msgonly" type="string" string="%msg%\\n")\n'
            f'input(type="imtcp" port="{self.tcp_port}" address="127.0.0.1")\n'
            f'input(type="imrelp" port="{self.relp_port}" address="127.0.0.1"{tls_params})\n'
            f'action(type="omfile" file="{self.received}" template="msgonly")\n'
        )

    def start(self) -> None:
        self.pidfile.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [RSYSLOGD, "-n", "-f", str(self.conf), "-i", str(self.pidfile)],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "rsyslogd.err").open("ab"),
        )
        wait_for_port(self.tcp_port)
        wait_for_port(self.relp_port)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signum)
            self.proc.wait(timeout=15)
        self.proc = None

    def lines(self) -> list[str]:
        try:
            return self.received.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def wait_lines(self, count: int, timeout: float = 60.0) -> list[str]:
        return wait_until(
            lambda: (lines := self.lines()) and len(lines) >= count and lines,
            timeout,
            f"{count} messages received by rsyslog",
        )
