"""The sidecar as a process: exit codes, bad flags, the error and touch files, git://, kill -9."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.git_sync.git_sync_support import GitDaemon, Upstream, git, link_hash, run_sidecar
from tests.support.ports import free_port
from tests.support.processes import Child
from tests.support.waits import wait_until

Start = Callable[..., Child]
SCRIPT = Path(sys.executable).parent / "podkit-git-sync"


def test_console_script_one_time_exits_0(upstream: Upstream, tmp_path: Path) -> None:
    assert SCRIPT.exists(), "the podkit-git-sync console script is not installed: run `uv sync`"
    root = tmp_path / "root"
    result = subprocess.run(
        [str(SCRIPT), f"--repo={upstream.url}", f"--root={root}", "--one-time"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    sha = git("rev-parse", "HEAD", cwd=upstream.work)
    assert link_hash(root / "repo.git") == sha  # --link defaults to the leaf of --repo


def test_env_vars_and_deprecated_spellings(upstream: Upstream, tmp_path: Path) -> None:
    upstream.tag("v1")
    root = tmp_path / "root"
    result = run_sidecar(
        env={
            "GITSYNC_REPO": upstream.url,
            "GIT_SYNC_ROOT": str(root),
            "GIT_SYNC_BRANCH": "v1",
            "GIT_SYNC_DEST": "current",
            "GITSYNC_ONE_TIME": "true",
        }
    )
    assert result.returncode == 0, result.stderr
    assert link_hash(root / "current")
    assert "GIT_SYNC_ROOT is deprecated" in result.stderr


def test_bad_flag_value_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_sidecar("--repo=file:///x", f"--root={tmp_path}", "--period=soon")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--period" in lines[0] and "'soon'" in lines[0] and "duration" in lines[0]
    result = run_sidecar(f"--root={tmp_path}")
    assert result.returncode == 1  # a missing or conflicting flag: git-sync exits 1
    assert "--repo" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_sidecar("--repo=file:///x", f"--root={tmp_path}", "--submodules=sometimes")
    assert result.returncode == 2


def test_help_and_man(tmp_path: Path) -> None:
    result = run_sidecar("--help")
    assert result.returncode == 0
    for flag in ("--repo", "--stale-worktree-timeout", "--webhook-success-status", "GITSYNC_REF"):
        assert flag in result.stdout
    result = run_sidecar("--man")
    assert result.returncode == 0
    assert "$GITSYNC_PASSWORD" in result.stdout and "LAYOUT" in result.stdout


def test_unreachable_remote_writes_the_error_file_and_exits_1(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    root = tmp_path / "root"
    result = run_sidecar(
        f"--repo=git://127.0.0.1:{port}/nothing",
        f"--root={root}",
        "--error-file=error.json",
        "--max-failures=2",
        "--period=50ms",
    )
    assert result.returncode == 1
    assert result.stderr.count("error syncing repo, will retry") == 2
    assert "too many failures, aborting" in result.stderr
    error = json.loads((root / "error.json").read_text())
    assert error["Msg"] == "too many failures, aborting"  # git-sync's keys and message
    assert "ls-remote" in " ".join(error["Args"]["command"]) or "fetch" in error["Err"]
    assert error["Args"]["stderr"]
    assert error["Args"]["failCount"] == 3
    assert (root / "error.json").read_text().startswith('{"Msg":')  # one line, as Go writes it


def test_error_file_is_removed_and_touch_file_touched_after_a_success(
    upstream: Upstream, tmp_path: Path, run_git_sync: Start
) -> None:
    root = tmp_path / "root"
    child = run_git_sync(
        f"--repo={upstream.url}",
        f"--root={root}",
        "--link=link",
        "--ref=later",
        "--max-failures=-1",
        "--period=100ms",
        "--error-file=errors/last.json",
        f"--touch-file={tmp_path / 'touched'}",
    )
    error_file = root / "errors" / "last.json"
    wait_until(error_file.exists, what="the error file")
    assert "later" in error_file.read_text()
    assert not (tmp_path / "touched").exists()
    upstream.checkout("later", create=True)
    upstream.commit({"file": "later\n"}, "later", branch="later")
    wait_until(lambda: not error_file.exists(), what="the error file to go")
    wait_until((tmp_path / "touched").exists, what="the touch file")
    assert (root / "link" / "file").read_text() == "later\n"
    child.signal(signal.SIGTERM)
    assert child.wait() == 0


def test_git_daemon_sync_picks_up_new_commits_and_sigterm_exits_0(
    upstream: Upstream, git_daemon: GitDaemon, tmp_path: Path, run_git_sync: Start
) -> None:
    root = tmp_path / "root"
    child = run_git_sync(
        f"--repo={git_daemon.url(upstream.bare.name)}",
        f"--root={root}",
        "--link=site",
        "--period=100ms",
    )
    link = root / "site"
    first = git("rev-parse", "HEAD", cwd=upstream.work)
    wait_until(lambda: link_hash(link) == first, what="first sync over git://")
    second = upstream.commit({"file": "two\n"}, "second")
    wait_until(lambda: link_hash(link) == second, what="second sync over git://")
    assert (link / "file").read_text() == "two\n"
    child.signal(signal.SIGTERM)
    assert child.wait() == 0
    assert "git-sync stopped" in child.stderr


def slow_checkout_git(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A --git wrapper whose checkout (``reset --hard``) hangs while the file ``slow`` exists,
    writing its PID to ``pids``; returns (wrapper, slow, pids)."""
    slow = tmp_path / "slow"
    pids = tmp_path / "pids"
    wrapper = tmp_path / "slow-git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ -e {slow} ] && [ "$1" = reset ] && [ "$2" = --hard ]; then\n'
        f"  echo $$ >> {pids}\n"
        "  exec sleep 60\n"
        "fi\n"
        'exec git "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper, slow, pids


def test_kill_9_during_a_sync_then_restart_keeps_the_link_on_a_complete_tree(
    upstream: Upstream, tmp_path: Path, run_git_sync: Start
) -> None:
    wrapper, slow, pids = slow_checkout_git(tmp_path)
    root = tmp_path / "root"
    link = root / "link"
    args = (
        f"--repo={upstream.url}",
        f"--root={root}",
        "--link=link",
        f"--git={wrapper}",
        "--period=100ms",
    )
    private = {"TMPDIR": str(tmp_path)}  # what a killed sidecar leaves stays in tmp_path
    child = run_git_sync(*args, env=private)
    first = git("rev-parse", "HEAD", cwd=upstream.work)
    wait_until(lambda: link_hash(link) == first, what="first sync")

    slow.touch()
    second = upstream.commit({"file": "two\n", "more": "x\n"}, "second")
    wait_until(pids.exists, what="the sync to reach the checkout")
    child.signal(signal.SIGKILL)
    child.wait()
    for pid in pids.read_text().split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    # the reader's view: still the first tree, complete
    assert link_hash(link) == first
    assert (link / "file").read_text() == "one\n"
    assert (root / ".worktrees" / second).exists()  # the half-made tree
    (root / ".git" / "index.lock").touch()  # and a lock a killed git would leave

    slow.unlink()
    restarted = run_git_sync(*args, env=private)
    wait_until(lambda: link_hash(link) == second, what="sync after restart")
    assert (link / "file").read_text() == "two\n"
    assert (link / "more").read_text() == "x\n"
    assert "removed stale git lock files" in restarted.stderr
    restarted.signal(signal.SIGTERM)
    assert restarted.wait() == 0


def test_sigterm_during_a_sync_abandons_it_cleanly_and_exits_0(
    upstream: Upstream, tmp_path: Path, run_git_sync: Start
) -> None:
    wrapper, slow, pids = slow_checkout_git(tmp_path)
    root = tmp_path / "root"
    child = run_git_sync(
        f"--repo={upstream.url}",
        f"--root={root}",
        "--link=link",
        f"--git={wrapper}",
        "--period=100ms",
        "--shutdown-grace=500ms",
    )
    first = git("rev-parse", "HEAD", cwd=upstream.work)
    wait_until(lambda: link_hash(root / "link") == first, what="first sync")
    slow.touch()
    upstream.commit({"file": "two\n"}, "second")
    wait_until(pids.exists, what="the sync to reach the checkout")
    child.signal(signal.SIGTERM)
    assert child.wait() == 0
    assert "abandoning in-flight work" in child.stderr
    assert link_hash(root / "link") == first
    assert (root / "link" / "file").read_text() == "one\n"
    for pid in pids.read_text().split():  # the slow git was killed with its process group
        wait_until(lambda pid=pid: not Path(f"/proc/{pid}").exists(), what=f"pid {pid} to end")
