"""Settings: git-sync v4's flag names, defaults, env vars, deprecated spellings and rules."""

from __future__ import annotations

import logging

import pytest

from podkit.core import SettingsError
from podkit.git_sync import GitSync, GitSyncSettings

BASE = ["--repo=https://example.com/org/app.git", "--root=/tmp/git"]

# flag -> (setting, v4 default, env vars in order)
V4 = {
    "--repo": ("repo", "", ("GITSYNC_REPO", "GIT_SYNC_REPO")),
    "--ref": ("ref", "HEAD", ("GITSYNC_REF",)),
    "--root": ("root", "", ("GITSYNC_ROOT", "GIT_SYNC_ROOT")),
    "--link": ("link", "", ("GITSYNC_LINK", "GIT_SYNC_LINK")),
    "--period": ("period", 10.0, ("GITSYNC_PERIOD", "GIT_SYNC_PERIOD")),
    "--init-period": ("init_period", None, ("GITSYNC_INIT_PERIOD",)),
    "--sync-timeout": ("sync_timeout", 120.0, ("GITSYNC_SYNC_TIMEOUT", "GIT_SYNC_SYNC_TIMEOUT")),
    "--one-time": ("one_time", False, ("GITSYNC_ONE_TIME", "GIT_SYNC_ONE_TIME")),
    "--max-failures": ("max_failures", 0, ("GITSYNC_MAX_FAILURES", "GIT_SYNC_MAX_FAILURES")),
    "--init-max-failures": ("init_max_failures", None, ("GITSYNC_INIT_MAX_FAILURES",)),
    "--depth": ("depth", 1, ("GITSYNC_DEPTH", "GIT_SYNC_DEPTH")),
    "--filter": ("filter", "", ("GITSYNC_FILTER",)),
    "--submodules": ("submodules", "recursive", ("GITSYNC_SUBMODULES", "GIT_SYNC_SUBMODULES")),
    "--sparse-checkout-file": (
        "sparse_checkout_file",
        "",
        ("GITSYNC_SPARSE_CHECKOUT_FILE", "GIT_SYNC_SPARSE_CHECKOUT_FILE"),
    ),
    "--git-gc": ("git_gc", "always", ("GITSYNC_GIT_GC", "GIT_SYNC_GIT_GC")),
    "--stale-worktree-timeout": (
        "stale_worktree_timeout",
        0.0,
        ("GITSYNC_STALE_WORKTREE_TIMEOUT",),
    ),
    "--sync-on-signal": (
        "sync_on_signal",
        "",
        ("GITSYNC_SYNC_ON_SIGNAL", "GIT_SYNC_SYNC_ON_SIGNAL"),
    ),
    "--touch-file": ("touch_file", "", ("GITSYNC_TOUCH_FILE", "GIT_SYNC_TOUCH_FILE")),
    "--error-file": ("error_file", "", ("GITSYNC_ERROR_FILE", "GIT_SYNC_ERROR_FILE")),
    "--group-write": ("group_write", False, ("GITSYNC_GROUP_WRITE", "GIT_SYNC_GROUP_WRITE")),
    "--git": ("git", "git", ("GITSYNC_GIT", "GIT_SYNC_GIT")),
    "--git-config": ("git_config", "", ("GITSYNC_GIT_CONFIG", "GIT_SYNC_GIT_CONFIG")),
    "--git-config-add": ("git_config_add", [], ("GITSYNC_GIT_CONFIG_ADD",)),
    "--username": ("username", "", ("GITSYNC_USERNAME", "GIT_SYNC_USERNAME")),
    "--password": ("password", "", ("GITSYNC_PASSWORD", "GIT_SYNC_PASSWORD")),
    "--password-file": ("password_file", "", ("GITSYNC_PASSWORD_FILE", "GIT_SYNC_PASSWORD_FILE")),
    "--credential": ("credential", [], ("GITSYNC_CREDENTIAL",)),
    "--askpass-url": (
        "askpass_url",
        "",
        ("GITSYNC_ASKPASS_URL", "GIT_SYNC_ASKPASS_URL", "GIT_ASKPASS_URL"),
    ),
    "--ssh-key-file": (
        "ssh_key_file",
        ["/etc/git-secret/ssh"],
        ("GITSYNC_SSH_KEY_FILE", "GIT_SYNC_SSH_KEY_FILE", "GIT_SSH_KEY_FILE"),
    ),
    "--ssh-known-hosts": (
        "ssh_known_hosts",
        True,
        ("GITSYNC_SSH_KNOWN_HOSTS", "GIT_SYNC_KNOWN_HOSTS", "GIT_KNOWN_HOSTS"),
    ),
    "--ssh-known-hosts-file": (
        "ssh_known_hosts_file",
        "/etc/git-secret/known_hosts",
        (
            "GITSYNC_SSH_KNOWN_HOSTS_FILE",
            "GIT_SYNC_SSH_KNOWN_HOSTS_FILE",
            "GIT_SSH_KNOWN_HOSTS_FILE",
        ),
    ),
    "--cookie-file": (
        "cookie_file",
        False,
        ("GITSYNC_COOKIE_FILE", "GIT_SYNC_COOKIE_FILE", "GIT_COOKIE_FILE"),
    ),
    "--add-user": ("add_user", False, ("GITSYNC_ADD_USER", "GIT_SYNC_ADD_USER")),
    "--github-base-url": (
        "github_base_url",
        "https://api.github.com/",
        ("GITSYNC_GITHUB_BASE_URL",),
    ),
    "--github-app-private-key-file": (
        "github_app_private_key_file",
        "",
        ("GITSYNC_GITHUB_APP_PRIVATE_KEY_FILE",),
    ),
    "--github-app-application-id": (
        "github_app_application_id",
        0,
        ("GITSYNC_GITHUB_APP_APPLICATION_ID",),
    ),
    "--github-app-client-id": ("github_app_client_id", "", ("GITSYNC_GITHUB_APP_CLIENT_ID",)),
    "--github-app-installation-id": (
        "github_app_installation_id",
        0,
        ("GITSYNC_GITHUB_APP_INSTALLATION_ID",),
    ),
    "--exechook-command": (
        "exechook_command",
        "",
        ("GITSYNC_EXECHOOK_COMMAND", "GIT_SYNC_EXECHOOK_COMMAND"),
    ),
    "--exechook-timeout": (
        "exechook_timeout",
        30.0,
        ("GITSYNC_EXECHOOK_TIMEOUT", "GIT_SYNC_EXECHOOK_TIMEOUT"),
    ),
    "--exechook-backoff": (
        "exechook_backoff",
        3.0,
        ("GITSYNC_EXECHOOK_BACKOFF", "GIT_SYNC_EXECHOOK_BACKOFF"),
    ),
    "--pre-publish-exechook-command": (
        "pre_publish_exechook_command",
        "",
        ("GITSYNC_PRE_PUBLISH_EXECHOOK_COMMAND",),
    ),
    "--pre-publish-exechook-timeout": (
        "pre_publish_exechook_timeout",
        30.0,
        ("GITSYNC_PRE_PUBLISH_EXECHOOK_TIMEOUT",),
    ),
    "--pre-publish-exechook-backoff": (
        "pre_publish_exechook_backoff",
        3.0,
        ("GITSYNC_PRE_PUBLISH_EXECHOOK_BACKOFF",),
    ),
    "--webhook-url": ("webhook_url", "", ("GITSYNC_WEBHOOK_URL", "GIT_SYNC_WEBHOOK_URL")),
    "--webhook-method": (
        "webhook_method",
        "POST",
        ("GITSYNC_WEBHOOK_METHOD", "GIT_SYNC_WEBHOOK_METHOD"),
    ),
    "--webhook-success-status": (
        "webhook_success_status",
        200,
        ("GITSYNC_WEBHOOK_SUCCESS_STATUS", "GIT_SYNC_WEBHOOK_SUCCESS_STATUS"),
    ),
    "--webhook-timeout": (
        "webhook_timeout",
        1.0,
        ("GITSYNC_WEBHOOK_TIMEOUT", "GIT_SYNC_WEBHOOK_TIMEOUT"),
    ),
    "--webhook-backoff": (
        "webhook_backoff",
        3.0,
        ("GITSYNC_WEBHOOK_BACKOFF", "GIT_SYNC_WEBHOOK_BACKOFF"),
    ),
    "--http-bind": ("admin_listen", None, ("GITSYNC_HTTP_BIND", "GIT_SYNC_HTTP_BIND")),
    "--http-metrics": ("http_metrics", False, ("GITSYNC_HTTP_METRICS", "GIT_SYNC_HTTP_METRICS")),
    "--http-pprof": ("http_pprof", False, ("GITSYNC_HTTP_PPROF", "GIT_SYNC_HTTP_PPROF")),
    "--verbose": ("verbose", 0, ("GITSYNC_VERBOSE",)),
}


@pytest.mark.parametrize("flag", sorted(V4))
def test_every_v4_flag_has_its_name_default_and_env_vars(flag: str) -> None:
    name, default, envs = V4[flag]
    decl = GitSyncSettings.declarations()[name]
    assert decl.flags[0] == flag
    assert decl.env_names == envs
    assert decl.make_default() == default


def test_env_vars_old_spellings_and_flags_win() -> None:
    env = {
        "GIT_SYNC_PERIOD": "30s",
        "GIT_KNOWN_HOSTS": "false",
        "GIT_SSH_KEY_FILE": "/keys/a",
        "GITSYNC_VERBOSE": "4",
    }
    s = GitSyncSettings.load([*BASE, "--period=1m30s"], env)
    assert s.period == 90.0
    assert s.ssh_known_hosts is False
    assert s.ssh_key_file == ["/keys/a"]
    assert s.verbose == 4
    assert s.link == "app.git"
    assert any("GIT_KNOWN_HOSTS is deprecated" in notice for notice in s.notices)


def test_v3_flags_still_work() -> None:
    s = GitSyncSettings.load(
        [*BASE, "--branch=stable", "--dest=current", "--wait=2.5", "--timeout=7", "--v=2"],
        {"GIT_SYNC_MAX_SYNC_FAILURES": "3", "GIT_SYNC_HOOK_COMMAND": "/bin/true"},
    )
    # folded once into the v4 settings, which are all the code reads
    assert s.ref == "stable"
    assert s.link == "current"
    assert s.period == 2.5
    assert s.sync_timeout == 7.0
    assert s.max_failures == 3
    assert s.exechook_command == "/bin/true"
    assert s.verbose == 2
    assert (s.branch, s.dest, s.wait, s.timeout, s.v) == ("", "", 0.0, 0, -1)
    assert "setting --ref from deprecated --branch" in s.deprecations
    assert s.replace(period=3.0).period == 3.0  # a copy keeps what was folded
    assert s.replace(period=3.0).ref == "stable"
    assert GitSyncSettings.load([*BASE, "--ssh"], {}).ssh is True


def test_verbose_maps_to_a_log_level() -> None:
    s = GitSyncSettings.load([*BASE, "-v", "3"], {})
    assert GitSync(s).log_level() == logging.INFO - 3
    s = GitSyncSettings.load([*BASE, "--log-level=warning", "-v", "3"], {})
    assert GitSync(s).log_level() == "warning"


def test_credentials_in_an_http_repo_url_become_the_username_and_password() -> None:
    s = GitSyncSettings.load(["--root=/r", "--repo=https://bob:pw-777@example.com/org/app"], {})
    assert (s.repo, s.username, s.password) == ("https://example.com/org/app", "bob", "pw-777")
    assert "pw-777" in s.secrets()
    assert s.replace(period=1.0).repo == "https://example.com/org/app"
    ssh = GitSyncSettings.load(["--root=/r", "--repo=ssh://git@example.com/org/app"], {})
    assert (ssh.repo, ssh.username) == ("ssh://git@example.com/org/app", "")


def test_init_values_default_to_the_steady_ones() -> None:
    s = GitSyncSettings.load([*BASE, "--period=5s", "--max-failures=4"], {})
    assert (s.init_period, s.init_max_failures) == (5.0, 4)
    s = GitSyncSettings.load([*BASE, "--init-period=100ms", "--init-max-failures=-1"], {})
    assert (s.init_period, s.init_max_failures) == (0.1, -1)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        ([], {}, "--root"),
        (["--root=/x"], {}, "--repo"),
        ([*BASE, "--period=5ms"], {}, "--period must be at least 10ms"),
        ([*BASE, "--depth=-1"], {}, "--depth"),
        ([*BASE, "--username=u"], {}, "$GITSYNC_PASSWORD or --password-file"),
        ([*BASE, "--password-file=/p"], {}, "--password-file may only be specified"),
        ([*BASE, "--username=u", "--password-file=/p"], {"GITSYNC_PASSWORD": "pw"}, "only one"),
        ([*BASE, "--sync-on-signal=SIGNOPE"], {}, "--sync-on-signal"),
        ([*BASE, "--exechook-command=/x", "--exechook-timeout=10ms"], {}, "at least 1s"),
        ([*BASE, "--webhook-url=http://x/", "--webhook-backoff=0s"], {}, "at least 1s"),
        ([*BASE, "--http-metrics"], {}, "--http-bind must be specified"),
        ([*BASE, "--branch=a", "--rev=b"], {}, "--branch and --rev"),
        ([*BASE, "--change-permissions=0775"], {}, "no longer supported"),
        ([*BASE, "--github-app-client-id=x"], {}, "--github-app-installation-id"),
        ([*BASE, "--credential={}"], {}, "--credential"),
        ([*BASE, "--credential=not json"], {}, "expected a JSON object"),
    ],
)
def test_bad_combinations_are_one_line_errors(
    argv: list[str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        GitSyncSettings.load(argv, env)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_credential_values_are_secrets() -> None:
    s = GitSyncSettings.load(
        [*BASE, '--credential={"url": "https://h", "username": "u", "password": "pw-123456"}'],
        {},
    )
    assert "pw-123456" in s.secrets()
    assert "pw-123456" not in repr(s)
    assert s.webhook_success_status == 200
    assert (
        GitSyncSettings.load([*BASE, "--webhook-success-status=-1"], {}).webhook_success_status == 0
    )
