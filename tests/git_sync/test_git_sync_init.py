"""As PID 1 the sidecar reaps zombies and forwards signals (a tiny init in front of the sync).

The sidecar runs as PID 1 of a new PID namespace (``unshare --pid --fork --mount-proc``, from
util-linux; the tests run as root). An exec hook leaves an orphan behind; the orphan is re-parented
to PID 1 and, once it ends, must not stay a zombie. SIGTERM sent to PID 1 reaches the sync, which
drains and exits 0, and PID 1 exits with that code.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from podkit.git_sync.init import exit_code, should_supervise
from tests.git_sync.git_sync_support import Upstream, git, link_hash, sidecar_argv
from tests.support.processes import Child
from tests.support.waits import wait_until


def unshare_argv(*args: str) -> list[str]:
    if shutil.which("unshare") is None:
        raise AssertionError("unshare not found: install util-linux (apt-get install util-linux)")
    if os.geteuid() != 0:
        raise AssertionError("PID-namespace tests need root (unshare --pid --mount-proc)")
    return ["unshare", "--pid", "--fork", "--mount-proc", *sidecar_argv(*args)]


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}/stat")).read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def zombies_of(pid: int) -> list[int]:
    return [child for child in children_of(pid) if state(child) == "Z"]


def test_as_pid_1_it_reaps_orphans_and_forwards_sigterm(upstream: Upstream, tmp_path: Path) -> None:
    marker = tmp_path / "orphan"
    hook = tmp_path / "hook.sh"
    # the hook backgrounds a job and exits at once: the job is orphaned while it sleeps
    hook.write_text(
        "#!/bin/sh\n"
        f"sh -c 'sleep 0.5; grep PPid /proc/$$/status > {marker}.tmp; mv {marker}.tmp {marker}' "
        "</dev/null >/dev/null 2>&1 &\n"
    )
    hook.chmod(0o755)
    root = tmp_path / "root"
    child = Child(
        unshare_argv(
            f"--repo={upstream.url}",
            f"--root={root}",
            "--link=link",
            "--period=100ms",
            f"--exechook-command={hook}",
        )
    )
    try:
        init = int(wait_until(lambda: children_of(child.pid), what="PID 1 of the namespace")[0])  # type: ignore[index]
        sha = git("rev-parse", "HEAD", cwd=upstream.work)
        wait_until(lambda: link_hash(root / "link") == sha, what="first sync")
        wait_until(marker.exists, what="the orphan to finish")
        # the orphan was re-parented to PID 1 (the init), not to the sync process
        assert marker.read_text().split() == ["PPid:", "1"]
        wait_until(lambda: not zombies_of(init), what="PID 1 to reap the orphan", timeout=15)
        sync_pids = children_of(init)
        assert len(sync_pids) == 1  # the sync runs as PID 1's only child
        child.signal(signal.SIGTERM)  # to unshare: it passes nothing on, so signal PID 1 itself
        os.kill(init, signal.SIGTERM)
        assert child.wait() == 0, child.stderr
        assert "git-sync stopped" in child.stderr
    finally:
        child.stop()


def test_as_pid_1_the_exit_code_of_the_sync_is_kept(tmp_path: Path) -> None:
    result = subprocess.run(
        unshare_argv("--repo=file:///nonexistent/repo", f"--root={tmp_path}", "--one-time"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "too many failures" in result.stderr
    bad = subprocess.run(
        unshare_argv("--repo=file:///x", f"--root={tmp_path}", "--period=never"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2


def test_supervise_reaps_as_a_subreaper_outside_a_namespace(tmp_path: Path) -> None:
    """The reaper itself, run in a forked process that is not PID 1 (a child subreaper)."""
    assert not should_supervise()
    out = tmp_path / "out"
    script = (
        "import os, subprocess, sys\n"
        "from podkit.git_sync.init import supervise\n"
        "code = supervise(['/bin/sh', '-c', 'sleep 0.2 & sleep 0.2 & exit 7'])\n"
        "def state(pid):\n"
        "    try:  # a process of another test may end between listdir and open\n"
        "        return open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[:2]\n"
        "    except OSError:\n"
        "        return []\n"
        "zombies = [p for p in os.listdir('/proc') if p.isdigit()"
        " and state(p) == ['Z', str(os.getpid())]]\n"
        f"open({str(out)!r}, 'w').write(f'{{code}} {{len(zombies)}}')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    code, zombies = out.read_text().split()
    assert code == "7"
    assert zombies == "0"


def test_exit_codes_of_wait_statuses() -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.kill(os.getpid(), signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert exit_code(status) == 128 + signal.SIGKILL
    # supervise() reaps every child and makes its process a subreaper: never in pytest's own
    # process, whose other children (servers of other tests) it would take over
    script = (
        "import sys\n"
        "from podkit.git_sync.init import supervise\n"
        "sys.exit(supervise(['/bin/sh', '-c', 'exit 3']))\n"
    )
    assert subprocess.run([sys.executable, "-c", script], timeout=60).returncode == 3
