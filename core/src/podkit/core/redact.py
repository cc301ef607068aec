"""Redaction of secrets from any text that leaves the process (log lines, error files, help).

A :class:`Redactor` knows two kinds of secrets: shapes that are secret wherever they appear
(credentials in URLs, ``password=...`` and ``token: ...`` pairs, ``Authorization`` headers,
private-key blocks) and exact values registered with it (every ``secret`` setting's value, and
anything a component learns later, such as a token it fetched). There is no process-wide
redactor: each :class:`~podkit.core.service.Service` owns one, its loggers carry it, and it goes
away with the service, so two services in one process never see each other's secrets.
:func:`redact` hides the shapes alone, for text that belongs to no service.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

# scheme://user:password@host -> scheme://user:***@host ; scheme://token@host -> scheme://***@host
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s'\"]*)(?::(?P<password>[^@/\s'\"]*))?@"
)
_KEY_VALUE = re.compile(
    r"(?P<key>\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"private[_-]?key|credentials?)[\w.-]*)"
    r"(?P<sep>[\"']?\s*[=:]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&\"'}\]]+)",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(
    r"(?P<key>\b(?:authorization|proxy-authorization)\s*[:=]\s*)(?P<scheme>(?:bearer|basic|token)\s+)?"
    r"(?P<value>[^\s,;\"']+)",
    re.IGNORECASE,
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
)


def _url_sub(match: re.Match[str]) -> str:
    if match.group("password") is not None:
        return f"{match.group('scheme')}{match.group('user')}:{MASK}@"
    if match.group("user") and match.group("scheme").lower() not in _USER_ONLY_SCHEMES:
        # a lone userinfo over HTTP is often a token (https://TOKEN@github.com); hide it
        return f"{match.group('scheme')}{MASK}@"
    return match.group(0)  # ssh://git@host: a user name alone is no secret there


_USER_ONLY_SCHEMES = frozenset({"ssh://", "git+ssh://", "ssh+git://", "sftp://"})


_NOT_SECRET_KEYS = ("file", "path", "dir", "url", "timeout", "length", "count")
_SECRET_KEY = re.compile(_KEY_VALUE.pattern.split("(?P<sep>")[0], re.IGNORECASE)


def secret_key(key: str) -> bool:
    """Whether a field or parameter named ``key`` holds a secret (``password``, ``api_token``)."""
    return bool(_SECRET_KEY.fullmatch(key)) and not key.lower().endswith(_NOT_SECRET_KEYS)


def _kv_sub(match: re.Match[str]) -> str:
    if match.group("key").lower().endswith(_NOT_SECRET_KEYS):
        return match.group(0)  # where a secret is kept is not the secret
    value = match.group("value")
    if value.startswith(("'", '"')):
        quote = value[0]
        if len(value) <= 2:
            return match.group(0)
        return f"{match.group('key')}{match.group('sep')}{quote}{MASK}{quote}"
    return f"{match.group('key')}{match.group('sep')}{MASK}"


def _auth_sub(match: re.Match[str]) -> str:
    return f"{match.group('key')}{match.group('scheme') or ''}{MASK}"


class Redactor:
    """Replaces secrets in text; thread-safe, cheap when there is nothing to hide."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self.add_all(secrets)

    def add(self, *secrets: str | None) -> None:
        """Register exact secret values (ignores empty and very short ones, which would mask noise)."""
        self.add_all(secrets)

    def add_all(self, secrets: Iterable[str | None]) -> None:
        fresh = {s for s in secrets if s and len(s) >= 4}
        for secret in list(fresh):
            # a secret read from a file usually ends with a newline; hide the bare value too
            stripped = secret.strip()
            if len(stripped) >= 4:
                fresh.add(stripped)
        with self._lock:
            values = self._values | fresh
            if values == self._values:
                return
            self._values = frozenset(values)
            ordered = sorted(values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return redact(text)

    def fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Redact structured fields: a secret-named key hides its whole value, text is redacted."""
        return {key: self._value(key, value) for key, value in fields.items()}

    def _value(self, key: str, value: Any) -> Any:
        if secret_key(key) and value not in (None, "", [], {}):
            return MASK
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return self.fields({str(k): item for k, item in value.items()})
        if isinstance(value, list | tuple):
            return [self._value(key, item) for item in value]
        return value


def redact(text: str) -> str:
    """Hide the secret shapes in ``text`` (URL credentials, key=value secrets, headers, keys)."""
    if "://" in text:
        text = _URL_CREDENTIALS.sub(_url_sub, text)
    if "PRIVATE KEY-----" in text:
        text = _PRIVATE_KEY.sub(f"-----{MASK} PRIVATE KEY-----", text)
    text = _AUTH_HEADER.sub(_auth_sub, text)
    return _KEY_VALUE.sub(_kv_sub, text)
