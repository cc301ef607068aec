"""`pip install ./core` into a clean virtual environment, then a one-file service runs from it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("example_service.py")


def test_pip_install_core_into_a_clean_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(ROOT / "core")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {item["name"] for item in json.loads(listed.stdout)}
    assert "podkit-core" in names
    assert "uvloop" not in names  # optional: podkit-core[fast]

    admin, work = free_port(), free_port()
    child = Child(
        [str(python), str(SCRIPT), f"--listen=127.0.0.1:{work}"],
        env={"EXAMPLE_ADMIN_LISTEN": f"127.0.0.1:{admin}", "PYTHONPATH": ""},
    )
    try:
        wait_for_port(work)
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/", timeout=5) as response:
            info = json.loads(response.read())
        assert info["name"] == "podkit-example"
        assert info["event_loop"].startswith("asyncio")  # no uvloop installed: plain asyncio
        child.signal(signal.SIGTERM)
        assert child.wait() == 0
    finally:
        child.stop()
