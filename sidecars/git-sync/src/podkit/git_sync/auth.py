"""How git authenticates and is configured: a private git config, credentials, SSH and cookies.

git-sync never touches the user's ``~/.gitconfig``: every git it runs gets ``GIT_CONFIG_GLOBAL``
pointing at a file in a private (0700) directory and ``GIT_CONFIG_NOSYSTEM``. Credentials
(``--username`` with ``$GITSYNC_PASSWORD`` or ``--password-file``, each ``--credential``, and what
``--askpass-url`` answers) are written before every sync to a 0600 file in that directory and
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
from urllib.parse import quote, urlsplit

import aiohttp

from podkit.core import REDACTOR, get_logger
from podkit.git_sync.gitcmd import Git
from podkit.git_sync.settings import Credential, GitSyncSettings

log = get_logger("podkit.git_sync.auth")

COOKIE_FILE = "/etc/git-secret/cookie_file"


class AuthError(Exception):
    """Credentials could not be prepared (a missing password file, a failing askpass URL)."""


def parse_git_config(text: str) -> list[tuple[str, str]]:
    """Parse git-sync's ``--git-config`` syntax: ``key:val,"quoted.key":"quoted, val"``.

    Keys and values may be double-quoted (with backslash escapes) to hold ``,`` or ``:``.
    """
    pairs: list[tuple[str, str]] = []
    pos = 0
    n = len(text)

    def token(stops: str) -> str:
        nonlocal pos
        while pos < n and text[pos] == " ":
            pos += 1
        if pos < n and text[pos] == '"':
            pos += 1
            out: list[str] = []
            while pos < n and text[pos] != '"':
                if text[pos] == "\\" and pos + 1 < n:
                    pos += 1
                    out.append({"n": "\n", "t": "\t"}.get(text[pos], text[pos]))
                else:
                    out.append(text[pos])
                pos += 1
            if pos >= n:
                raise ValueError(f"unterminated quote in {text!r}")
            pos += 1
            return "".join(out)
        start = pos
        while pos < n and text[pos] not in stops:
            pos += 1
        return text[start:pos].strip()

    while pos < n:
        key = token(":")
        if pos >= n or text[pos] != ":":
            raise ValueError(f"config {key!r} has no ':' and value")
        pos += 1
        value = token(",")
        if not key:
            raise ValueError("empty config key")
        pairs.append((key, value))
        while pos < n and text[pos] == " ":
            pos += 1
        if pos < n:
            if text[pos] != ",":
                raise ValueError(f"unexpected {text[pos]!r} after config {key!r}")
            pos += 1
    return pairs


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


def _store_line(url: str, username: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    scheme = parts.scheme or "https"
    return f"{scheme}://{quote(username, safe='')}:{quote(password, safe='')}@{host}\n"


class GitAuth:
    """The private config directory, git's environment, and the credentials of one sidecar."""

    def __init__(self, settings: GitSyncSettings) -> None:
        self.settings = settings
        self.dir = Path(tempfile.mkdtemp(prefix="podkit-git-sync."))
        os.chmod(self.dir, 0o700)
        self.config_file = self.dir / "gitconfig"
        self.config_file.touch(mode=0o600)
        self.store_file = self.dir / "credentials"
        self.store_file.touch(mode=0o600)
        env = dict(os.environ)
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

    async def configure(self, timeout: float = 30.0) -> None:
        """Write the private git config: defaults, then cookie file, then the user's configs."""
        cwd = self.dir
        config: list[tuple[str, str]] = [
            ("gc.autoDetach", "false"),
            ("gc.pruneExpire", "now"),
            ("credential.helper", f"store --file={shlex.quote(str(self.store_file))}"),
            ("core.askPass", "true"),
        ]
        if self.settings.cookie_file:
            config.append(("http.cookiefile", COOKIE_FILE))
        try:
            config += parse_git_config(self.settings.git_config)
        except ValueError as exc:
            raise AuthError(f"invalid --git-config: {exc}") from None
        for key, value in config:
            await self.git.run("config", "--global", key, value, cwd=cwd, timeout=timeout)
        for item in self.settings.git_config_add:
            key, sep, value = item.partition(":")
            if not sep or not key.strip():
                raise AuthError(f"invalid --git-config-add {item!r}: expected 'section.key:value'")
            await self.git.run(
                "config", "--global", "--add", key.strip(), value, cwd=cwd, timeout=timeout
            )

    async def refresh(self, session: aiohttp.ClientSession | None = None) -> list[str]:
        """Re-read password files (and call ``--askpass-url``); rewrite the credential store.

        Returns the outcome of the askpass call for metrics: ``[]``, ``["success"]`` or raises.
        """
        lines: list[str] = []
        for cred in self.settings.credentials:
            lines.append(_store_line(cred.url, cred.username, self._password(cred)))
        calls: list[str] = []
        if self.settings.askpass_url:
            username, password = await self._askpass(session)
            lines.insert(0, _store_line(self.settings.resolved_repo, username, password))
            calls.append("success")
        self._write_store(lines)
        return calls

    def _password(self, cred: Credential) -> str:
        if not cred.password_file:
            return cred.password
        try:
            password = Path(cred.password_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthError(
                f"can't read password file {cred.password_file}: {exc.strerror or exc}"
            ) from None
        REDACTOR.add(password)
        return password.rstrip("\r\n")

    async def _askpass(self, session: aiohttp.ClientSession | None) -> tuple[str, str]:
        url = self.settings.askpass_url
        own = session is None
        client = session or aiohttp.ClientSession()
        try:
            async with client.get(url, timeout=aiohttp.ClientTimeout(total=30)) as response:
                body = await response.text()
                if response.status != 200:
                    raise AuthError(f"askpass URL answered HTTP {response.status}")
        except aiohttp.ClientError as exc:
            raise AuthError(f"askpass URL failed: {type(exc).__name__}: {exc}") from None
        finally:
            if own:
                await client.close()
        username = password = ""
        for line in body.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "username":
                username = value.strip()
            elif key.strip() == "password":
                password = value.strip()
        REDACTOR.add(password)
        return username, password

    def _write_store(self, lines: Iterable[str]) -> None:
        tmp = self.store_file.with_name(self.store_file.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
        os.replace(tmp, self.store_file)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
