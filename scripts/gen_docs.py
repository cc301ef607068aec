"""Regenerates the settings tables in each package README from the settings declarations.

Components are discovered from the ``podkit.components`` entry points (each package declares its
service class there), and each README is found in the workspace folder of the distribution that
declares it. Usage: ``uv run python scripts/gen_docs.py [--check]``; ``--check`` exits 1 when a
README is stale instead of writing it (the tests run it that way).
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

from podkit.core.docs import replace_block, settings_markdown

ROOT = Path(__file__).resolve().parents[1]
GROUP = "podkit.components"


def workspace_folders() -> dict[str, Path]:
    """Distribution name -> its folder, for every member of the uv workspace."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    folders = {}
    for member in root["tool"]["uv"]["workspace"]["members"]:
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text(encoding="utf-8"))
        folders[project["project"]["name"]] = ROOT / member
    return folders


def readmes() -> dict[Path, type]:
    """README path -> the settings class it documents, one per discovered component."""
    folders = workspace_folders()
    found: dict[Path, type] = {}
    for ep in entry_points(group=GROUP):
        if ep.dist is None or ep.dist.name not in folders:
            raise SystemExit(f"component {ep.name} comes from outside the workspace: {ep.value}")
        found[folders[ep.dist.name] / "README.md"] = ep.load().settings_class
    if not found:
        raise SystemExit(f"no {GROUP} entry points: is the workspace installed (uv sync)?")
    return found


def main(check: bool) -> int:
    stale = []
    for path, cls in sorted(readmes().items()):
        text = path.read_text(encoding="utf-8")
        fresh = replace_block(text, settings_markdown(cls))
        if fresh != text:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(fresh, encoding="utf-8")
    if stale:
        verb = "stale (run: uv run python scripts/gen_docs.py)" if check else "updated"
        print(f"{verb}: {', '.join(stale)}", file=sys.stderr)
        return 1 if check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
