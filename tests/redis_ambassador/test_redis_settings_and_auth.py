"""Settings from flags, env vars and files; upstream authentication that no flag shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from podkit.core import HostPort, SettingsError
from podkit.redis_ambassador.settings import RedisAmbassadorSettings
from tests.redis_ambassador.support import Ambassador, Server


def test_settings_from_flags_and_env(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-file\n")
    settings = RedisAmbassadorSettings.load(
        ["--master=10.0.0.1:6379", "--replica=10.0.0.2:6379", "--replica=10.0.0.3:6380",
         "--read-policy=replica", f"--upstream-password-file={secret}"],
        {"REDIS_AMBASSADOR_CONSISTENCY": "eventual", "REDIS_AMBASSADOR_LISTEN": ":7000"},
    )  # fmt: skip
    assert settings.master == HostPort("10.0.0.1", 6379)
    assert settings.replica == [HostPort("10.0.0.2", 6379), HostPort("10.0.0.3", 6380)]
    assert settings.read_policy == "replica"
    assert settings.consistency == "eventual"
    assert settings.failover_hold == 5.0
    assert settings.listen == HostPort("", 7000)
    assert settings.upstream_secret() == "from-file"
    assert settings.admin_listen == HostPort("", 9121)
    env = RedisAmbassadorSettings.load(
        ["--master=10.0.0.1:6379"], {"REDIS_AMBASSADOR_UPSTREAM_PASSWORD": "env-pw"}
    )
    assert env.upstream_secret() == "env-pw"
    assert RedisAmbassadorSettings(master=HostPort("10.0.0.1", 6379)).listen == HostPort(
        "127.0.0.1", 6379
    )
    assert RedisAmbassadorSettings(master=HostPort("10.0.0.1", 6379)).consistency == "session"


def test_passwords_are_never_flags() -> None:
    with pytest.raises(SettingsError):
        RedisAmbassadorSettings.load(["--upstream-password=visible"], {})
    with pytest.raises(SettingsError):
        RedisAmbassadorSettings.load(["--read-policy=sometimes"], {})


def test_cli_help_and_bad_value() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "podkit.redis_ambassador.cli", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for text in (
        "--master",
        "REDIS_AMBASSADOR_REPLICA",
        "--consistency",
        "--failover-hold",
        "--sentinel",
    ):
        assert text in help_text
    bad = subprocess.run(
        [sys.executable, "-m", "podkit.redis_ambassador.cli", "--master=nope"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "--master" in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "podkit.redis_ambassador.cli", "--admin-listen="],
        capture_output=True, text=True,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "no master" in missing.stderr


def test_upstream_password_from_env_and_file(tmp_path: Path) -> None:
    auth = ("--requirepass", "upstream-secret", "--masterauth", "upstream-secret")
    master = Server(tmp_path / "m", None, *auth)
    replica = Server(tmp_path / "r", master.port, *auth)
    cluster = type("C", (), {"master": master, "replicas": [replica]})()
    try:
        password_file = tmp_path / "pw"
        password_file.write_text("upstream-secret\n")
        for extra, env in (
            ((), {"REDIS_AMBASSADOR_UPSTREAM_PASSWORD": "upstream-secret"}),
            ((f"--upstream-password-file={password_file}",), None),
        ):
            amb = Ambassador(cluster, *extra, env=env)  # type: ignore[arg-type]
            try:
                amb.wait_ready()
                client = amb.client()
                assert client.set("auth:k", "v")
                assert client.get("auth:k") in (b"v", None)  # a replica may lag
                assert "upstream-secret" not in amb.child.stderr
                assert "upstream-secret" not in " ".join(amb.child.argv)
            finally:
                amb.stop()
    finally:
        replica.stop()
        master.stop()
