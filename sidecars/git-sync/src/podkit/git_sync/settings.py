"""git-sync's settings: every kubernetes/git-sync v4 flag, env var, default and deprecated spelling.

Each flag keeps v4's name, default and meaning; each env var is ``GITSYNC_<NAME>``, and where v4
still accepts the deprecated ``GIT_SYNC_<NAME>`` (or a v3 name such as ``GIT_KNOWN_HOSTS``) so do
we. The v3 flags v4 still accepts (``--branch``, ``--rev``, ``--dest``, ``--wait``, ``--timeout``,
``--max-sync-failures``, ``--sync-hook-command``, ``--password``, ``--v``, ``--ssh``,
``--change-permissions``) are hidden from ``--help`` and folded into their v4 counterparts once,
when the settings are checked, so the code reads only the v4 settings. Cross-flag rules are
checked in :meth:`GitSyncSettings.check`; a broken rule is a :class:`ConfigError` (one line, exit
1 as in git-sync; a value that does not parse exits 2, as pflag does).
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from podkit.core import ServiceSettings, SettingsError, setting
from podkit.core import values as v
from podkit.git_sync.gitconfig import parse_git_config, parse_git_config_add

SUBMODULES = ("recursive", "shallow", "off")


class ConfigError(SettingsError):
    """A cross-flag rule is broken (a bad value is a plain :class:`SettingsError`).

    git-sync exits 1 for these and 2 for a flag it can't parse; the command does the same.
    """


GIT_GC = ("auto", "always", "aggressive", "off")


@dataclass(frozen=True)
class Credential:
    """One ``--credential``: a URL and the username and password (or password file) for it."""

    url: str
    username: str
    password: str = ""
    password_file: str = ""

    def __repr__(self) -> str:
        secret = "<redacted>" if self.password else '""'
        return (
            f"Credential(url={self.url!r}, username={self.username!r}, password={secret}, "
            f"password_file={self.password_file!r})"
        )


def _parse_credentials(raw: Any) -> tuple[Credential, ...]:
    """A JSON object, or a JSON list of objects, with url, username, password or password-file."""
    if isinstance(raw, dict | list):
        data: Any = raw
    else:
        try:
            data = json.loads(v.parse_str(raw))
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg} at position {exc.pos}") from None
    items = data if isinstance(data, list) else [data]
    out: list[Credential] = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("each credential must be a JSON object")
        unknown = set(item) - {"url", "username", "password", "password-file"}
        if unknown:
            raise ValueError(f"unknown credential field(s) {', '.join(sorted(unknown))}")
        cred = Credential(
            url=str(item.get("url", "")),
            username=str(item.get("username", "")),
            password=str(item.get("password", "")),
            password_file=str(item.get("password-file", "")),
        )
        if not cred.url:
            raise ValueError("a credential needs a url")
        if not cred.username:
            raise ValueError("a credential needs a username")
        if bool(cred.password) == bool(cred.password_file):
            raise ValueError("a credential needs exactly one of password and password-file")
        out.append(cred)
    return tuple(out)


CREDENTIALS: v.Parser[tuple[Credential, ...]] = v.Parser(
    _parse_credentials,
    'a JSON object {"url": ..., "username": ..., "password" or "password-file": ...} or a list of them',
    metavar="JSON",
)


def parse_signal(text: str) -> signal.Signals:
    """A signal by number (``1``), name (``SIGHUP``) or short name (``HUP``), as git-sync takes it."""
    text = text.strip()
    try:
        return signal.Signals(int(text, 0))
    except ValueError:
        pass
    name = text.upper()
    for candidate in (name, "SIG" + name):
        if candidate in signal.Signals.__members__:
            return signal.Signals[candidate]
    raise ValueError(f"{text!r} is not a signal name or number")


_DURATION = v.DURATION
_OPT_DURATION = v.optional(v.DURATION)


class GitSyncSettings(ServiceSettings):
    """Settings of :class:`podkit.git_sync.GitSync`; names, env vars and defaults are git-sync v4's."""

    env_prefix = "GITSYNC_"
    env_alias_prefixes = ("GIT_SYNC_",)
    setting_overrides = {
        "admin_listen": {
            "flag": "--http-bind",
            "env": "GITSYNC_HTTP_BIND",
            "env_aliases": ("GIT_SYNC_HTTP_BIND",),
            "default": None,
            "help": "the bind address (including port) for git-sync's HTTP endpoint "
            "(/, /healthz, /readyz, /metrics); empty turns it off",
            "group": "http",
        },
    }

    # --- what to sync, and where ---------------------------------------------------------------
    repo: str = setting(default="", help="the git repository to sync (required)", group="sync")
    ref: str = setting(
        default="HEAD",
        env="GITSYNC_REF",
        help="the git revision (branch, tag, or hash) to sync",
        group="sync",
    )
    root: str = setting(
        default="", help="the root directory for git-sync operations (required)", group="sync"
    )
    link: str = setting(
        default="",
        help="the path (absolute or relative to --root) at which to create a symlink to the "
        "directory holding the checked-out files (defaults to the leaf dir of --repo)",
        group="sync",
    )
    depth: int = setting(
        default=1,
        help="create a shallow clone with history truncated to the specified number of commits "
        "(0 means full history)",
        group="sync",
    )
    filter: str = setting(
        default="",
        env="GITSYNC_FILTER",
        help="use partial clone with the specified filter (e.g. 'blob:none', 'tree:0')",
        group="sync",
    )
    submodules: str = setting(
        default="recursive",
        parse=v.choice(*SUBMODULES),
        help="git submodule behavior: one of 'recursive', 'shallow', or 'off'",
        group="sync",
    )
    sparse_checkout_file: str = setting(
        default="", help="the path to a sparse-checkout file", group="sync"
    )
    git_gc: str = setting(
        default="always",
        parse=v.choice(*GIT_GC),
        help="git garbage collection behavior: one of 'auto', 'always', 'aggressive', or 'off'",
        group="sync",
    )
    stale_worktree_timeout: float = setting(
        default=0.0,
        parse=_DURATION,
        env="GITSYNC_STALE_WORKTREE_TIMEOUT",
        help="how long to retain non-current worktrees",
        group="sync",
    )
    group_write: bool = setting(
        default=False,
        help="ensure that all data (repo, worktrees, etc.) is group writable",
        group="sync",
    )

    # --- when to sync --------------------------------------------------------------------------
    period: float = setting(
        default=10.0,
        parse=_DURATION,
        help="how long to wait between syncs, must be >= 10ms; --wait overrides this",
        group="loop",
    )
    init_period: float | None = setting(
        default=None,
        parse=_OPT_DURATION,
        env="GITSYNC_INIT_PERIOD",
        help="how long to wait between sync attempts until the first success (defaults to "
        "--period)",
        default_text="--period",
        group="loop",
    )
    sync_timeout: float = setting(
        default=120.0,
        parse=_DURATION,
        help="the total time allowed for one complete sync, must be >= 10ms; --timeout overrides "
        "this",
        group="loop",
    )
    one_time: bool = setting(default=False, help="exit after the first sync", group="loop")
    max_failures: int = setting(
        default=0,
        help="the number of consecutive failures allowed before aborting (-1 will retry forever)",
        group="loop",
    )
    init_max_failures: int | None = setting(
        default=None,
        parse=v.optional(v.INT),
        env="GITSYNC_INIT_MAX_FAILURES",
        help="the number of consecutive failures allowed before the first success, before "
        "aborting (defaults to --max-failures; -1 will retry forever)",
        default_text="--max-failures",
        group="loop",
    )
    sync_on_signal: str = setting(
        default="", help="sync on receipt of the specified signal (e.g. SIGHUP)", group="loop"
    )
    touch_file: str = setting(
        default="",
        help="the path (absolute or relative to --root) to an optional file which will be "
        "touched whenever a sync completes (defaults to disabled)",
        group="loop",
    )
    error_file: str = setting(
        default="",
        help="the path (absolute or relative to --root) to an optional file into which errors "
        "will be written (defaults to disabled)",
        group="loop",
    )

    # --- hooks ---------------------------------------------------------------------------------
    exechook_command: str = setting(
        default="",
        help="an optional command to be run when syncs complete (must be idempotent)",
        group="hooks",
    )
    exechook_timeout: float = setting(
        default=30.0, parse=_DURATION, help="the timeout for the exechook", group="hooks"
    )
    exechook_backoff: float = setting(
        default=3.0,
        parse=_DURATION,
        help="the time to wait before retrying a failed exechook",
        group="hooks",
    )
    pre_publish_exechook_command: str = setting(
        default="",
        env="GITSYNC_PRE_PUBLISH_EXECHOOK_COMMAND",
        help="an optional command to be run in a new worktree before it is published; the sync "
        "publishes only once it succeeds (must be idempotent)",
        group="hooks",
    )
    pre_publish_exechook_timeout: float = setting(
        default=30.0,
        parse=_DURATION,
        env="GITSYNC_PRE_PUBLISH_EXECHOOK_TIMEOUT",
        help="the timeout for the pre-publish exechook",
        group="hooks",
    )
    pre_publish_exechook_backoff: float = setting(
        default=3.0,
        parse=_DURATION,
        env="GITSYNC_PRE_PUBLISH_EXECHOOK_BACKOFF",
        help="the time to wait before retrying a failed pre-publish exechook",
        group="hooks",
    )
    webhook_url: str = setting(
        default="",
        help="a URL for optional webhook notifications when syncs complete (must be idempotent)",
        group="hooks",
    )
    webhook_method: str = setting(
        default="POST", help="the HTTP method for the webhook", group="hooks"
    )
    webhook_success_status: int = setting(
        default=200,
        help="the HTTP status code indicating a successful webhook (0 disables success checks)",
        group="hooks",
    )
    webhook_timeout: float = setting(
        default=1.0, parse=_DURATION, help="the timeout for the webhook", group="hooks"
    )
    webhook_backoff: float = setting(
        default=3.0,
        parse=_DURATION,
        help="the time to wait before retrying a failed webhook",
        group="hooks",
    )

    # --- sync on push (podkit) ----------------------------------------------------------------
    push_webhook_path: str = setting(
        default="",
        env="GITSYNC_PUSH_WEBHOOK_PATH",
        help="serve an inbound push webhook at this path of --http-bind (e.g. /push): a POST "
        "signed by GitHub (X-Hub-Signature-256) or carrying GitLab's X-Gitlab-Token syncs at "
        "once (needs a secret)",
        group="push",
    )
    push_webhook_secret: str = setting(
        default="",
        secret=True,
        no_flag=True,
        env="GITSYNC_PUSH_WEBHOOK_SECRET",
        help="the secret of the push webhook (GitHub's webhook secret, GitLab's secret token)",
        group="push",
    )
    push_webhook_secret_file: str = setting(
        default="",
        env="GITSYNC_PUSH_WEBHOOK_SECRET_FILE",
        help="the file from which the push webhook's secret is read (re-read for every request)",
        group="push",
    )

    # --- auth ----------------------------------------------------------------------------------
    username: str = setting(default="", help="the username to use for git auth", group="auth")
    password: str = setting(
        default="",
        secret=True,
        env="GITSYNC_PASSWORD",
        env_aliases=("GIT_SYNC_PASSWORD",),
        help="the password or personal access token to use for git auth; set it with "
        "$GITSYNC_PASSWORD (the flag is deprecated: it shows in the process list)",
        group="auth",
    )
    password_file: str = setting(
        default="",
        help="the file from which the password or personal access token for git auth will be "
        "sourced (re-read before every sync)",
        group="auth",
    )
    credential: list[tuple[Credential, ...]] = setting(
        default=[],
        parse=CREDENTIALS,
        repeatable=True,
        separator="\0",
        secret=True,
        env="GITSYNC_CREDENTIAL",
        help="one or more credentials (see --man for details) available for authentication",
        group="auth",
    )
    askpass_url: str = setting(
        default="",
        env_aliases=("GIT_ASKPASS_URL",),
        help="a URL to query for git credentials (username=<value> and password=<value>)",
        group="auth",
    )
    ssh_key_file: list[str] = setting(
        default=["/etc/git-secret/ssh"],
        repeatable=True,
        env_aliases=("GIT_SSH_KEY_FILE",),
        help="the SSH key(s) to use",
        group="auth",
    )
    ssh_known_hosts: bool = setting(
        default=True,
        negatable=True,
        env="GITSYNC_SSH_KNOWN_HOSTS",
        env_aliases=("GIT_SYNC_KNOWN_HOSTS", "GIT_KNOWN_HOSTS"),
        help="enable SSH known_hosts verification",
        group="auth",
    )
    ssh_known_hosts_file: str = setting(
        default="/etc/git-secret/known_hosts",
        env_aliases=("GIT_SSH_KNOWN_HOSTS_FILE",),
        help="the known_hosts file to use",
        group="auth",
    )
    cookie_file: bool = setting(
        default=False,
        env_aliases=("GIT_COOKIE_FILE",),
        help="use a git cookiefile (/etc/git-secret/cookie_file) for authentication",
        group="auth",
    )
    add_user: bool = setting(
        default=False,
        help="add a record to /etc/passwd for the current UID/GID (needed to use SSH with an "
        "arbitrary UID)",
        group="auth",
    )
    github_base_url: str = setting(
        default="https://api.github.com/",
        env="GITSYNC_GITHUB_BASE_URL",
        help="the GitHub base URL to use when making requests to GitHub when using GitHub app auth",
        group="auth",
    )
    github_app_private_key: str = setting(
        default="",
        secret=True,
        no_flag=True,
        env="GITSYNC_GITHUB_APP_PRIVATE_KEY",
        help="the private key to use for GitHub app auth; set it with "
        "$GITSYNC_GITHUB_APP_PRIVATE_KEY",
        group="auth",
    )
    github_app_private_key_file: str = setting(
        default="",
        env="GITSYNC_GITHUB_APP_PRIVATE_KEY_FILE",
        help="the file from which the private key for GitHub app auth will be sourced",
        group="auth",
    )
    github_app_client_id: str = setting(
        default="",
        env="GITSYNC_GITHUB_APP_CLIENT_ID",
        help="the GitHub app client ID to use for GitHub app auth",
        group="auth",
    )
    github_app_application_id: int = setting(
        default=0,
        env="GITSYNC_GITHUB_APP_APPLICATION_ID",
        help="the GitHub app application ID to use for GitHub app auth",
        group="auth",
    )
    github_app_installation_id: int = setting(
        default=0,
        env="GITSYNC_GITHUB_APP_INSTALLATION_ID",
        help="the GitHub app installation ID to use for GitHub app auth",
        group="auth",
    )

    # --- git -----------------------------------------------------------------------------------
    git: str = setting(
        default="git",
        help="the git command to run (subject to PATH search, mostly for testing)",
        group="git",
    )
    git_config: str = setting(
        default="",
        help='additional git config options in \'section.var1:val1,"section.sub.var2":"val2"\' '
        "format",
        group="git",
    )
    git_config_add: list[str] = setting(
        default=[],
        repeatable=True,
        separator="\0",
        env="GITSYNC_GIT_CONFIG_ADD",
        help="one more git config value as 'section.var:value', added to any value the key "
        "already has (for multi-valued keys such as url.<base>.insteadOf); double-quote a key "
        "that holds ':', as in '\"url.https://host/.insteadOf\":value'",
        group="git",
    )

    # --- http and logging ----------------------------------------------------------------------
    http_metrics: bool = setting(
        default=False, help="enable metrics on git-sync's HTTP endpoint", group="http"
    )
    http_pprof: bool = setting(
        default=False,
        help="enable the profiling endpoints on git-sync's HTTP endpoint at /debug/pprof/ "
        "(Python's equivalents: thread and task stacks, sampled stack profiles)",
        group="http",
    )
    verbose: int = setting(
        default=0,
        aliases=("-v",),
        env="GITSYNC_VERBOSE",
        help="logs at this V level and lower will be printed",
        group="general",
    )
    man: bool = setting(
        default=False, no_env=True, help="print the full manual and exit", group="general"
    )

    # --- v3 spellings v4 still accepts (hidden from --help) ------------------------------------
    branch: str = setting(
        default="", env="GIT_SYNC_BRANCH", hidden=True, help="DEPRECATED: use --ref instead"
    )
    rev: str = setting(
        default="", env="GIT_SYNC_REV", hidden=True, help="DEPRECATED: use --ref instead"
    )
    dest: str = setting(
        default="", env="GIT_SYNC_DEST", hidden=True, help="DEPRECATED: use --link instead"
    )
    change_permissions: int = setting(
        default=0,
        env="GIT_SYNC_PERMISSIONS",
        hidden=True,
        help="DEPRECATED: use --group-write instead",
    )
    max_sync_failures: int = setting(
        default=0,
        env="GIT_SYNC_MAX_SYNC_FAILURES",
        hidden=True,
        help="DEPRECATED: use --max-failures instead",
    )
    sync_hook_command: str = setting(
        default="",
        env="GIT_SYNC_HOOK_COMMAND",
        hidden=True,
        help="DEPRECATED: use --exechook-command instead",
    )
    timeout: int = setting(
        default=0,
        env="GIT_SYNC_TIMEOUT",
        hidden=True,
        help="DEPRECATED: use --sync-timeout instead (whole seconds)",
    )
    wait: float = setting(
        default=0.0,
        env="GIT_SYNC_WAIT",
        hidden=True,
        help="DEPRECATED: use --period instead (seconds)",
    )
    ssh: bool = setting(
        default=False, no_env=True, hidden=True, help="DEPRECATED: no longer necessary"
    )
    v: int = setting(
        default=-1,
        flag="--v",
        no_env=True,
        hidden=True,
        help="DEPRECATED: use -v or --verbose instead",
    )

    # --- resolution: the v3 spellings folded into the v4 settings, once ---------------------

    def _resolve(self) -> None:
        """Fold what v4 still accepts into the settings the code reads, as git-sync does at
        start-up: the deprecated flags are then empty, ``--link`` defaults to the leaf of
        ``--repo``, ``--init-period`` / ``--init-max-failures`` to their loop settings, and an
        http(s) ``--repo`` with ``user:password@`` gives ``--username`` and the password and
        loses them. Idempotent, so :meth:`replace` and a re-check keep the values."""
        notices: list[str] = []

        def fold(name: str, value: object, old: str, new: str) -> None:
            object.__setattr__(self, name, value)
            notices.append(f"setting {new} from deprecated {old}")

        if self.branch and self.rev in ("", "HEAD"):
            fold("ref", self.branch, "--branch", "--ref")
        elif self.rev and not self.branch:
            fold("ref", self.rev, "--rev", "--ref")
        if self.dest:
            fold("link", self.dest, "--dest", "--link")
        if not self.link:
            steps = [step for step in self.repo.strip("/").split("/") if step]
            leaf = steps[-1] if steps else "repo"
            object.__setattr__(self, "link", leaf.rsplit(":", 1)[-1] or "repo")
        if self.wait:
            fold("period", int(self.wait * 1000) / 1000, "--wait", "--period")
        if self.timeout:
            fold("sync_timeout", float(self.timeout), "--timeout", "--sync-timeout")
        if self.max_sync_failures:
            fold("max_failures", self.max_sync_failures, "--max-sync-failures", "--max-failures")
        if self.sync_hook_command:
            fold(
                "exechook_command",
                self.sync_hook_command,
                "--sync-hook-command",
                "--exechook-command",
            )
        if self.v >= 0:
            fold("verbose", self.v, "--v", "-v/--verbose")
        for name, empty in (
            ("branch", ""),
            ("rev", ""),
            ("dest", ""),
            ("wait", 0.0),
            ("timeout", 0),
            ("max_sync_failures", 0),
            ("sync_hook_command", ""),
            ("v", -1),
        ):
            object.__setattr__(self, name, empty)
        if self.init_period is None:
            object.__setattr__(self, "init_period", self.period)
        if self.init_max_failures is None:
            object.__setattr__(self, "init_max_failures", self.max_failures)
        if self.webhook_success_status == -1:  # v3: -1 and 0 both meant "don't check"
            object.__setattr__(self, "webhook_success_status", 0)
        parts = urlsplit(self.repo)
        if not self.username and parts.scheme in ("http", "https") and "@" in parts.netloc:
            object.__setattr__(self, "username", parts.username or "")
            if parts.password is not None:
                object.__setattr__(self, "password", parts.password)
            host = parts.netloc.rsplit("@", 1)[1]
            bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
            object.__setattr__(self, "repo", bare)
        object.__setattr__(self, "_deprecations", getattr(self, "_deprecations", []) + notices)

    @property
    def deprecations(self) -> list[str]:
        """What :meth:`_resolve` folded from a deprecated flag, for the service to log."""
        return list(getattr(self, "_deprecations", []))

    @property
    def sync_signal(self) -> signal.Signals | None:
        """``--sync-on-signal`` as a signal (checked at load)."""
        return parse_signal(self.sync_on_signal) if self.sync_on_signal else None

    @property
    def github_app_enabled(self) -> bool:
        return self.github_app_application_id != 0 or self.github_app_client_id != ""

    @property
    def credentials(self) -> list[Credential]:
        """Every credential: ``--username`` (with the password) first, then each ``--credential``."""
        out: list[Credential] = []
        if self.username:
            out.append(Credential(self.repo, self.username, self.password, self.password_file))
        for group in self.credential:
            out.extend(group)
        return out

    @classmethod
    def secret_env_names(cls) -> list[str]:
        """Every env var a secret setting is read from: no child process may inherit them."""
        return [
            name for decl in cls.__settings__.values() if decl.secret for name in decl.env_names
        ]

    def secrets(self) -> list[str]:
        out = super().secrets()
        out.extend(cred.password for cred in self.credentials if cred.password)
        return out

    # --- cross-flag rules ----------------------------------------------------------------------

    def check(self) -> None:
        if self.man:
            return  # --man prints the manual whatever else is given
        self._check_deprecated()
        self._resolve()
        self._check_required()
        self._check_loop()
        self._check_hooks()
        self._check_auth()
        self._check_git_config()
        self._check_push_webhook()
        if self.admin_listen is None and self.http_metrics:
            raise ConfigError("--http-bind must be specified when --http-metrics is set")
        if self.admin_listen is None and self.http_pprof:
            raise ConfigError("--http-bind must be specified when --http-pprof is set")

    def _check_deprecated(self) -> None:
        """What must be checked before :meth:`_resolve` folds the v3 spellings away."""
        if self.branch and self.rev not in ("", "HEAD"):
            raise ConfigError(
                "can't set --ref from deprecated --branch and --rev (one or the other is OK)"
            )
        if self.username and urlsplit(self.repo).username:
            raise ConfigError(
                "credentials may not be specified in --repo when --username is specified"
            )
        if not self.username and self.password and not urlsplit(self.repo).password:
            raise ConfigError(
                "$GITSYNC_PASSWORD may only be specified when --username is specified"
            )

    def _check_required(self) -> None:
        if not self.root:
            raise ConfigError("--root (env GITSYNC_ROOT) must be specified")
        if not self.repo:
            raise ConfigError("--repo (env GITSYNC_REPO) must be specified")
        if not self.ref:
            raise ConfigError("--ref (env GITSYNC_REF) must be specified")
        if self.depth < 0:
            raise ConfigError("--depth must be greater than or equal to 0")
        if self.change_permissions:
            raise ConfigError("deprecated flag --change-permissions is no longer supported")
        if self.stale_worktree_timeout < 0:
            raise ConfigError("--stale-worktree-timeout must not be negative")

    def _check_loop(self) -> None:
        if self.period < 0.01:
            raise ConfigError("--period must be at least 10ms")
        if self.init_period is not None and self.init_period < 0.01:
            raise ConfigError("--init-period must be at least 10ms")
        if self.sync_timeout < 0.01:
            raise ConfigError("--sync-timeout must be at least 10ms")
        if self.sync_on_signal:
            try:
                parse_signal(self.sync_on_signal)
            except ValueError:
                raise ConfigError(
                    f"--sync-on-signal must be a valid signal name or number, not "
                    f"{self.sync_on_signal!r}"
                ) from None

    def _check_hooks(self) -> None:
        if self.exechook_command:
            if self.exechook_timeout < 1:
                raise ConfigError("--exechook-timeout must be at least 1s")
            if self.exechook_backoff < 1:
                raise ConfigError("--exechook-backoff must be at least 1s")
        if self.pre_publish_exechook_command:
            if self.pre_publish_exechook_timeout < 1:
                raise ConfigError("--pre-publish-exechook-timeout must be at least 1s")
            if self.pre_publish_exechook_backoff < 1:
                raise ConfigError("--pre-publish-exechook-backoff must be at least 1s")
        if self.webhook_url:
            if self.webhook_success_status < 0:
                raise ConfigError("--webhook-success-status must be a valid HTTP code or 0")
            if self.webhook_timeout < 1:
                raise ConfigError("--webhook-timeout must be at least 1s")
            if self.webhook_backoff < 1:
                raise ConfigError("--webhook-backoff must be at least 1s")

    def _check_auth(self) -> None:
        if self.username:
            if not self.password and not self.password_file:
                raise ConfigError(
                    "$GITSYNC_PASSWORD or --password-file must be specified when --username is "
                    "specified"
                )
            if self.password and self.password_file:
                raise ConfigError(
                    "only one of $GITSYNC_PASSWORD and --password-file may be specified"
                )
        else:
            if self.password_file:
                raise ConfigError(
                    "--password-file may only be specified when --username is specified"
                )
        if self.github_app_enabled:
            if self.github_app_application_id and self.github_app_client_id:
                raise ConfigError(
                    "only one of --github-app-application-id or --github-app-client-id may be "
                    "specified"
                )
            if not self.github_app_installation_id:
                raise ConfigError(
                    "--github-app-installation-id must be specified when "
                    "--github-app-application-id or --github-app-client-id are specified"
                )
            if bool(self.github_app_private_key) == bool(self.github_app_private_key_file):
                raise ConfigError(
                    "exactly one of $GITSYNC_GITHUB_APP_PRIVATE_KEY or "
                    "--github-app-private-key-file must be specified with GitHub app auth"
                )
            if self.username or self.password or self.password_file:
                raise ConfigError(
                    "--username, $GITSYNC_PASSWORD and --password-file may not be used with "
                    "GitHub app auth"
                )
        elif self.github_app_installation_id:
            raise ConfigError(
                "--github-app-installation-id may only be specified with "
                "--github-app-application-id or --github-app-client-id"
            )

    def _check_git_config(self) -> None:
        try:
            parse_git_config(self.git_config)
        except ValueError as exc:
            raise ConfigError(f"invalid --git-config: {exc}") from None
        for item in self.git_config_add:
            try:
                parse_git_config_add(item)
            except ValueError as exc:
                raise ConfigError(f"invalid --git-config-add: {exc}") from None

    def _check_push_webhook(self) -> None:
        secret = self.push_webhook_secret or self.push_webhook_secret_file
        if not self.push_webhook_path:
            if secret:
                raise ConfigError(
                    "$GITSYNC_PUSH_WEBHOOK_SECRET and --push-webhook-secret-file need "
                    "--push-webhook-path"
                )
            return
        path = self.push_webhook_path
        if not path.startswith("/") or path in ("/", "/healthz", "/readyz", "/metrics"):
            raise ConfigError(
                f"--push-webhook-path must be a path such as /push, not {path!r} (/, /healthz, "
                "/readyz and /metrics are taken)"
            )
        if self.admin_listen is None:
            raise ConfigError("--http-bind must be specified when --push-webhook-path is set")
        if bool(self.push_webhook_secret) == bool(self.push_webhook_secret_file):
            raise ConfigError(
                "exactly one of $GITSYNC_PUSH_WEBHOOK_SECRET or --push-webhook-secret-file must "
                "be specified with --push-webhook-path"
            )
