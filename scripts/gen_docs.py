"""Regenerates the settings tables in each package README from the settings declarations.

Usage: ``uv run python scripts/gen_docs.py [--check]``; ``--check`` exits 1 when a README is
stale instead of writing it (the tests run it that way).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from podkit.core.docs import replace_block, settings_markdown

ROOT = Path(__file__).resolve().parents[1]
# README -> the settings class it documents
PACKAGES = {
    "adapters/statsd/README.md": "podkit.statsd_adapter.settings:StatsdSettings",
    "sidecars/git-sync/README.md": "podkit.git_sync.settings:GitSyncSettings",
    "adapters/jmx/README.md": "podkit.jmx_adapter.settings:JmxSettings",
    "ambassadors/redis/README.md": "podkit.redis_ambassador.settings:RedisAmbassadorSettings",
}


def main(check: bool) -> int:
    stale = []
    for readme, target in PACKAGES.items():
        module, _, name = target.partition(":")
        cls = getattr(importlib.import_module(module), name)
        path = ROOT / readme
        text = path.read_text(encoding="utf-8")
        fresh = replace_block(text, settings_markdown(cls))
        if fresh != text:
            stale.append(readme)
            if not check:
                path.write_text(fresh, encoding="utf-8")
    if stale:
        verb = "stale (run: uv run python scripts/gen_docs.py)" if check else "updated"
        print(f"{verb}: {', '.join(stale)}", file=sys.stderr)
        return 1 if check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
