"""git-sync's ``--git-config`` and ``--git-config-add`` syntax: one parser for checks and use.

``--git-config`` is ``key:val,"quoted.key":"quoted, val"`` (keys and values may be double-quoted,
with backslash escapes, to hold ``,`` or ``:``); each ``--git-config-add`` is one
``section.key:value`` added to the key's existing values (a key holding ``:`` is quoted). The settings check calls these so a
malformed value exits 2 at start-up; :mod:`.auth` calls them to write the private git config.
"""

from __future__ import annotations


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


def parse_git_config_add(item: str) -> tuple[str, str]:
    """One ``--git-config-add``: ``section.key:value``; the value is taken verbatim (it may hold
    ``:`` and ``,``). A key that holds ``:`` (a URL in ``url.<base>.insteadOf``) is double-quoted,
    with backslash escapes, as in ``--git-config``: ``"url.https://host/.insteadOf":value``.
    """
    text = item.lstrip()
    if text.startswith('"'):
        pos = 1
        chars: list[str] = []
        while pos < len(text) and text[pos] != '"':
            if text[pos] == "\\" and pos + 1 < len(text):
                pos += 1
            chars.append(text[pos])
            pos += 1
        if pos >= len(text):
            raise ValueError(f"unterminated quote in {item!r}")
        key, rest = "".join(chars), text[pos + 1 :]
        if not rest.startswith(":"):
            raise ValueError(f"{item!r}: expected ':' after the quoted key")
        value = rest[1:]
    else:
        key, sep, value = text.partition(":")
        if not sep:
            raise ValueError(f"{item!r} is not 'section.key:value'")
    key = key.strip()
    if not key or "." not in key:
        raise ValueError(f"{item!r}: the key {key!r} has no section")
    return key, value
