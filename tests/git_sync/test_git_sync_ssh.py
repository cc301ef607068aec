"""SSH auth against a real sshd: --ssh-key-file, --ssh-known-hosts, --ssh-known-hosts-file.

The server is OpenSSH's sshd on a free loopback port with a generated host key and one
authorised client key; repositories are reached as ssh://USER@127.0.0.1:PORT/path, submodules
too. A missing sshd fails the tests with what to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.git_sync.git_sync_support import Upstream, add_submodule, git, link_hash, run_sidecar
from tests.git_sync.ssh_server import SshServer


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    server = SshServer(tmp_path / "sshd")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def ssh_args(sshd: SshServer, upstream: Upstream, root: Path, *more: str) -> list[str]:
    return [
        f"--repo={sshd.url(upstream.bare)}",
        f"--root={root}",
        "--link=link",
        "--one-time",
        *more,
    ]


def test_sync_over_ssh_with_key_and_known_hosts_file_including_submodules(
    upstream: Upstream, sshd: SshServer, tmp_path: Path
) -> None:
    sub = Upstream(upstream.bare.parent, "sub")
    sub.commit({"inner.txt": "over ssh\n"}, "sub")
    sha = add_submodule(upstream, sub, "vendor/sub", sshd.url(sub.bare))
    root = tmp_path / "root"
    result = run_sidecar(
        *ssh_args(
            sshd,
            upstream,
            root,
            f"--ssh-key-file={sshd.client_key}",
            f"--ssh-known-hosts-file={sshd.known_hosts}",
        )
    )
    assert result.returncode == 0, result.stderr + sshd.log
    assert link_hash(root / "link") == sha
    assert (root / "link" / "file").read_text() == "one\n"
    assert (root / "link" / "vendor" / "sub" / "inner.txt").read_text() == "over ssh\n"
    assert "Accepted publickey" in sshd.log


def test_env_vars_and_v3_spellings_for_ssh(
    upstream: Upstream, sshd: SshServer, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    result = run_sidecar(
        f"--root={root}",
        "--one-time",
        env={
            "GITSYNC_REPO": sshd.url(upstream.bare),
            "GIT_SSH_KEY_FILE": str(sshd.client_key),
            "GIT_SSH_KNOWN_HOSTS_FILE": str(sshd.known_hosts),
        },
    )
    assert result.returncode == 0, result.stderr + sshd.log
    assert link_hash(root / "repo.git") == git("rev-parse", "HEAD", cwd=upstream.work)


def test_unknown_host_key_is_refused_unless_known_hosts_checking_is_off(
    upstream: Upstream, sshd: SshServer, tmp_path: Path
) -> None:
    args = ssh_args(
        sshd,
        upstream,
        tmp_path / "root",
        f"--ssh-key-file={sshd.client_key}",
        f"--ssh-known-hosts-file={sshd.wrong_known_hosts}",
        "--error-file=error.json",
    )
    refused = run_sidecar(*args)
    assert refused.returncode == 1
    error = (tmp_path / "root" / "error.json").read_text()
    assert "Host key verification failed" in error or "REMOTE HOST IDENTIFICATION" in error, error
    assert not (tmp_path / "root" / "link").exists()

    unchecked = run_sidecar(*args, "--no-ssh-known-hosts")
    assert unchecked.returncode == 0, unchecked.stderr + sshd.log
    assert link_hash(tmp_path / "root" / "link")

    by_env = run_sidecar(
        *ssh_args(
            sshd,
            upstream,
            tmp_path / "root2",
            f"--ssh-key-file={sshd.client_key}",
            "--ssh-known-hosts-file=/nonexistent/known_hosts",
        ),
        env={"GITSYNC_SSH_KNOWN_HOSTS": "false"},
    )
    assert by_env.returncode == 0, by_env.stderr


def test_repeated_ssh_key_files_are_all_offered(
    upstream: Upstream, sshd: SshServer, tmp_path: Path
) -> None:
    only_stranger = run_sidecar(
        *ssh_args(
            sshd,
            upstream,
            tmp_path / "a",
            f"--ssh-key-file={sshd.stranger_key}",
            f"--ssh-known-hosts-file={sshd.known_hosts}",
        )
    )
    assert only_stranger.returncode == 1
    assert "Permission denied" in only_stranger.stderr
    both = run_sidecar(
        *ssh_args(
            sshd,
            upstream,
            tmp_path / "b",
            f"--ssh-key-file={sshd.stranger_key}",
            f"--ssh-key-file={sshd.client_key}",
            f"--ssh-known-hosts-file={sshd.known_hosts}",
        )
    )
    assert both.returncode == 0, both.stderr + sshd.log
    assert link_hash(tmp_path / "b" / "link")
