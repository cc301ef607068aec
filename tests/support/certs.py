"""A throw-away certificate authority for TLS tests: one CA and one certificate signed by it.

The certificate serves as server and client certificate alike; its subject alternative names are
127.0.0.1 and any DNS names a test asks for (a Redis test checks SNI with ``redis.test``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def make_certs(directory: Path, dns_names: tuple[str, ...] = ()) -> dict[str, Path]:
    """Create ``directory`` with ``ca.crt``, ``node.crt`` and ``node.key``; their paths by role."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("TLS tests need openssl: apt-get install openssl (or make test)")
    directory.mkdir()

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)

    names = ["IP:127.0.0.1", *(f"DNS:{name}" for name in dns_names)]
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=podkit-test-ca")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr",
        "-subj", f"/CN={dns_names[0] if dns_names else '127.0.0.1'}")  # fmt: skip
    (directory / "ext.cnf").write_text(f"subjectAltName={','.join(names)}\n")
    run("x509", "-req", "-in", "node.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "node.crt", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    return {
        "ca": directory / "ca.crt",
        "cert": directory / "node.crt",
        "key": directory / "node.key",
    }
