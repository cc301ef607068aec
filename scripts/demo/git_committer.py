"""The git-sync demo's upstream: a bare repository and a committer that updates it.

``python git_committer.py init DIR`` creates ``DIR/site.git`` (bare) and a working clone with a
first ``index.html``; ``python git_committer.py loop DIR [SECONDS]`` then commits a new
``index.html`` every SECONDS (5 by default) until it is stopped, so the demo's git-sync has
something to pick up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "podkit demo",
    "GIT_AUTHOR_EMAIL": "demo@example.com",
    "GIT_COMMITTER_NAME": "podkit demo",
    "GIT_COMMITTER_EMAIL": "demo@example.com",
}


def git(*args: str, cwd: Path) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, check=True)
    return out.stdout.decode().strip()


def commit(work: Path, n: int) -> str:
    now = datetime.now(UTC).strftime("%H:%M:%S UTC")
    (work / "index.html").write_text(
        "<!doctype html>\n<title>podkit git-sync demo</title>\n"
        f"<h1>podkit git-sync demo: commit {n}</h1>\n"
        f"<p>committed at {now} by scripts/demo/git_committer.py</p>\n"
    )
    git("add", "index.html", cwd=work)
    git("commit", "-q", "-m", f"commit {n}", cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return git("rev-parse", "--short", "HEAD", cwd=work)


def init(base: Path) -> None:
    bare, work = base / "site.git", base / "work"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=base)
    git("init", "-q", "-b", "main", str(work), cwd=base)
    git("remote", "add", "origin", str(bare), cwd=work)
    commit(work, 1)


def loop(base: Path, period: float) -> int:
    work = base / "work"
    stop = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    n = int(git("rev-list", "--count", "HEAD", cwd=work))
    while not stop:
        deadline = time.monotonic() + period
        while not stop and time.monotonic() < deadline:
            time.sleep(0.1)
        if stop:
            break
        n += 1
        print(f"git committer: pushed commit {n} ({commit(work, n)})", flush=True)
    return 0


if __name__ == "__main__":
    command, where = sys.argv[1], Path(sys.argv[2])
    if command == "init":
        init(where)
        sys.exit(0)
    sys.exit(loop(where, float(sys.argv[3]) if len(sys.argv) > 3 else 5.0))
