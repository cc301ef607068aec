"""How git authenticates and is configured: a private git config, credentials, SSH and cookies.

git-sync never touches the user's ``~/.gitconfig``: every git it runs gets ``GIT_CONFIG_GLOBAL``
pointing at a file in a private (0700) directory and ``GIT_CONFIG_NOSYSTEM``. Credentials
(``--username`` with ``$GITSYNC_PASSWORD`` or ``--password-file``, each ``--credential``, and what
``--askpass-url`` answers, and a GitHub App installation token) are written before every sync to a 0600 file in that directory and
served by git's own ``store`` credential helper, so no secret is ever in a process's argv, in an
environment variable of git, or in a log line. SSH goes through ``GIT_SSH_COMMAND`` with the
``--ssh-key-file`` keys and known-hosts checking; ``--cookie-file`` sets ``http.cookiefile``;
``--git-config`` and ``--git-config-add`` are applied last, so they can override anything.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from podkit.core import Logger
from podkit.git_sync.gitcmd import Git, scrubbed_environ
from podkit.git_sync.gitconfig import parse_git_config, parse_git_config_add
from podkit.git_sync.metrics import GitSyncMetrics
from podkit.git_sync.settings import Credential, GitSyncSettings

if TYPE_CHECKING:
    from podkit.git_sync.github_app import GitHubApp

COOKIE_FILE = "/etc/git-secret/cookie_file"


class AuthError(Exception):
    """Credentials could not be prepared (a missing password file, a failing askpass URL)."""


def _ssh_command(settings: GitSyncSettings) -> str:
    base = os.environ.get("GIT_SSH_COMMAND") or "ssh"
    parts = [base]
    for key in settings.ssh_key_file:
        parts += ["-i", shlex.quote(key)]
    if settings.ssh_known_hosts:
        parts += [
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            shlex.quote(f"UserKnownHostsFile={settings.ssh_known_hosts_file}"),
        ]
    else:
        parts += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    parts += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
    return " ".join(parts)


# what git's store helper leaves unencoded in a host and a path (RFC 3986 reserved + unreserved)
_RESERVED = "!*'();:@&=+$,/?#[]~"


def _store_line(url: str, username: str, password: str) -> str:
    """One line of git's credential store for ``url``, as ``git credential approve`` writes it.

    The path is kept, as git-sync stores it (``git credential approve`` with the whole URL):
    git drops the path of an http(s) request unless ``credential.useHttpPath`` is set, so
    those still match; other schemes (``file://``) and ``useHttpPath`` need it.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    scheme = parts.scheme or "https"
    path = parts.path.strip("/")
    tail = "/" + quote(path, safe=_RESERVED) if path else ""
    user = quote(username, safe="")
    secret = quote(password, safe="")
    return f"{scheme}://{user}:{secret}@{quote(host, safe=_RESERVED)}{tail}\n"


PRIVATE_DIR_PREFIX = "podkit-git-sync."


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():  # a pid reused after a restart: that run is over
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_private_dirs(tmpdir: str | None = None) -> list[str]:
    """Remove the private directories (git config, credentials) of runs that were killed.

    Each is named ``podkit-git-sync.<pid>.<random>``; one whose process is gone is removed, with
    the credential file in it. Directories of live processes (another sidecar sharing ``/tmp``)
    and of other users are left alone.
    """
    base = Path(tmpdir or tempfile.gettempdir())
    removed: list[str] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    uid = os.getuid()
    for entry in entries:
        if not entry.name.startswith(PRIVATE_DIR_PREFIX):
            continue
        pid_text = entry.name[len(PRIVATE_DIR_PREFIX) :].split(".", 1)[0]
        try:
            if not pid_text.isdigit() or entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            if not entry.is_dir(follow_symlinks=False) or _pid_alive(int(pid_text)):
                continue
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _config_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _config_text(sections: dict[str, dict[str, str]]) -> str:
    """A git config file of ``section -> key -> value`` (values quoted, as git reads them)."""
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"\t{key} = {_config_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


class GitAuth:
    """The private config directory, git's environment, and the credentials of one sidecar."""

    def __init__(self, settings: GitSyncSettings, log: Logger) -> None:
        self.settings = settings
        self.log = log
        self.dir = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_DIR_PREFIX}{os.getpid()}."))
        os.chmod(self.dir, 0o700)
        self.config_file = self.dir / "gitconfig"
        self.config_file.touch(mode=0o600)
        self.store_file = self.dir / "credentials"
        self.store_file.touch(mode=0o600)
        env = scrubbed_environ(settings.secret_env_names())
        for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_ASKPASS", "SSH_ASKPASS"):
            env.pop(name, None)
        env.update(
            {
                "GIT_CONFIG_GLOBAL": str(self.config_file),
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_SSH_COMMAND": _ssh_command(settings),
                "LC_ALL": "C",
            }
        )
        self.env = env
        self.git = Git(settings.git, env)
        self.github_app: GitHubApp | None = None
        if settings.github_app_enabled:  # only then: it loads cryptography
            from podkit.git_sync.github_app import GitHubApp

            self.github_app = GitHubApp(settings, log.child("github_app"))

    async def configure(self, timeout: float = 30.0) -> None:
        """Write the private git config: defaults, then cookie file, then the user's configs."""
        cwd = self.dir
        # git-sync's defaults, written in one go (one git per key costs ~10 ms each at start-up)
        defaults = {
            "gc": {"autoDetach": "false", "pruneExpire": "now"},
            "credential": {"helper": f"store --file={shlex.quote(str(self.store_file))}"},
            "core": {"askPass": "true"},
            "safe": {"directory": "*"},
        }
        if self.settings.cookie_file:
            defaults["http"] = {"cookiefile": COOKIE_FILE}
        self.config_file.write_text(_config_text(defaults), encoding="utf-8")
        try:
            config = parse_git_config(self.settings.git_config)
        except ValueError as exc:
            raise AuthError(f"invalid --git-config: {exc}") from None
        for key, value in config:
            await self.git.run("config", "--global", key, value, cwd=cwd, timeout=timeout)
        for item in self.settings.git_config_add:
            try:
                key, value = parse_git_config_add(item)
            except ValueError as exc:
                raise AuthError(f"invalid --git-config-add: {exc}") from None
            await self.git.run("config", "--global", "--add", key, value, cwd=cwd, timeout=timeout)

    async def refresh(self, metrics: GitSyncMetrics | None = None) -> None:
        """Re-read password files, call ``--askpass-url``, renew the GitHub App token if it is
        due; rewrite the credential store. Askpass calls and token refreshes are counted in
        ``metrics``; any failure raises :class:`AuthError`.
        """
        lines: list[str] = []
        for cred in self.settings.credentials:
            lines.append(_store_line(cred.url, cred.username, self._password(cred)))
        if self.settings.askpass_url:
            try:
                username, password = await self._askpass()
            except AuthError:
                if metrics is not None:
                    metrics.askpass_calls.inc("error")
                raise
            if metrics is not None:
                metrics.askpass_calls.inc("success")
            lines.insert(0, _store_line(self.settings.repo, username, password))
        if self.github_app is not None:
            from podkit.git_sync.github_app import USERNAME as GITHUB_APP_USERNAME
            from podkit.git_sync.github_app import GitHubAppError

            try:
                token, refreshed = await self.github_app.token()
            except GitHubAppError as exc:
                if metrics is not None:
                    metrics.github_app_token_refreshes.inc("error")
                raise AuthError(str(exc)) from None
            if refreshed and metrics is not None:
                metrics.github_app_token_refreshes.inc("success")
            lines.insert(0, _store_line(self.settings.repo, GITHUB_APP_USERNAME, token))
        self._write_store(lines)

    def _password(self, cred: Credential) -> str:
        if not cred.password_file:
            return cred.password
        try:
            password = Path(cred.password_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthError(
                f"can't read password file {cred.password_file}: {exc.strerror or exc}"
            ) from None
        self.log.redactor.add(password)
        return password.rstrip("\r\n")

    async def _askpass(self) -> tuple[str, str]:
        import aiohttp  # only with --askpass-url

        url = self.settings.askpass_url
        try:
            async with (
                aiohttp.ClientSession() as client,
                client.get(url, timeout=aiohttp.ClientTimeout(total=30)) as response,
            ):
                body = await response.text()
                if response.status != 200:
                    raise AuthError(f"askpass URL answered HTTP {response.status}")
        except aiohttp.ClientError as exc:
            raise AuthError(f"askpass URL failed: {type(exc).__name__}: {exc}") from None
        username = password = ""
        for line in body.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "username":
                username = value.strip()
            elif key.strip() == "password":
                password = value.strip()
        self.log.redactor.add(password)
        return username, password

    def _write_store(self, lines: Iterable[str]) -> None:
        tmp = self.store_file.with_name(self.store_file.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
        os.replace(tmp, self.store_file)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
