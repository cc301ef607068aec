"""The manual (``--man``), generated from the settings.

Every setting of :class:`GitSyncSettings` (hidden v3 spellings apart) is listed with its flag,
its env vars and its default, grouped as in ``--help``, followed by notes on the on-disk layout,
hooks and the HTTP endpoint.
"""

from __future__ import annotations

import textwrap

from podkit.git_sync.settings import GitSyncSettings

_GROUPS = {
    "sync": "WHAT TO SYNC, AND WHERE",
    "loop": "WHEN TO SYNC",
    "hooks": "HOOKS",
    "push": "SYNC ON PUSH (podkit)",
    "auth": "AUTHENTICATION",
    "git": "GIT",
    "http": "HTTP",
    "general": "GENERAL",
}

_NOTES = """\
LAYOUT
    --root is a git repository owned by git-sync.  Each synced commit is checked out in its own
    worktree, <root>/.worktrees/<full hash>, and <root>/<link> is a relative symlink to it.  The
    link is replaced atomically (a new symlink under a temporary name, then a rename) only once
    the new tree is complete, so readers never see a half-written tree.  Worktrees no longer
    linked are removed after --stale-worktree-timeout.

HOOKS
    The exechook runs in the new worktree with $GITSYNC_HASH set; the webhook sends the header
    Gitsync-Hash.  Both run after the link is swapped, are retried after their backoff until they
    succeed, and only ever for the newest hash.  The pre-publish exechook runs in the new worktree
    before the link is swapped; the tree is published only once it succeeds.

SYNC ON PUSH
    With --push-webhook-path (and a secret), a POST to that path of --http-bind triggers a sync
    at once.  GitHub's X-Hub-Signature-256 (HMAC-SHA256 of the body with the secret) or GitLab's
    X-Gitlab-Token (the secret itself) must match: a request with neither header gets 401, a
    wrong one 403, a verified one 202.  GitHub's ping event answers 200 without syncing.  Polling
    goes on at --period as a safety net.

PID 1
    Run as PID 1 (the container's entry point with no init), podkit-git-sync forks: the parent
    stays PID 1, reaps every orphaned process (git's children), forwards signals to the child
    that runs the sync, and exits with its exit code.

HTTP
    With --http-bind: / answers 503 until the first sync and 200 after; /healthz and /readyz are
    liveness and readiness probes; /metrics (with --http-metrics) exports git-sync's metrics.

EXIT CODES
    0 after --one-time succeeded (hooks included) or after SIGTERM; 1 when consecutive failures
    exceed --max-failures, or a --one-time hook failed; 2 for a bad flag or env var.
"""


def flag_entries() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group title, [(flag line, help)]) for every visible setting."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for decl in GitSyncSettings.declarations().values():
        if decl.hidden:
            continue
        metavar = (
            ""
            if decl.is_bool
            else f" <{(decl.parser.metavar if decl.parser else None) or 'string'}>"
        )
        envs = ", ".join("$" + name for name in decl.env_names)
        if decl.flags:
            names = ", ".join(decl.flags) + metavar.lower().replace("{", "").replace("}", "")
            names += f", {envs}" if envs else ""
        else:
            names = f"{envs} (env only)"
        if decl.default_text is not None:
            default = decl.default_text
        else:
            default = decl.shown(decl.make_default())
        text = f"{decl.help[0].upper()}{decl.help[1:]}.  Default: {default}."
        if decl.repeatable:
            text += "  May be given more than once."
        grouped.setdefault(decl.group or "general", []).append((names, text))
    order = list(_GROUPS)
    ranked = sorted(grouped.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    return [(_GROUPS.get(group, group.upper()), items) for group, items in ranked]


def manual() -> str:
    out = [
        "GIT-SYNC (podkit)\n",
        "NAME\n    podkit-git-sync - sync a git repository to a local directory\n",
        "SYNOPSIS\n    podkit-git-sync --repo=<repo> --root=<path> [OPTIONS]...\n",
    ]
    for title, items in flag_entries():
        out.append(title)
        for names, text in items:
            out.append(f"    {names}")
            out.append(textwrap.fill(text, 96, initial_indent=" " * 12, subsequent_indent=" " * 12))
            out.append("")
    out.append(_NOTES)
    return "\n".join(out)
