#!/usr/bin/env python3
"""Names and inputs of podkit's images, from images/images.env and the workspace (stdlib only).

    images/image.py components            every images/<component>/Dockerfile's component
    images/image.py name COMPONENT [REPO] REPO/<component>:<version> (REPO: images.env's)
    images/image.py package COMPONENT     the distribution that provides the component
    images/image.py version COMPONENT     that package's __version__
    images/image.py base                  the base image's name
    images/image.py inputs COMPONENT      a hash of everything the image is built from
    images/image.py requirements COMPONENT  its third-party dependencies pinned with hashes
                                          from uv.lock, uvloop included (for pip --require-hashes)

A component is found through the ``podkit.components`` entry points of the workspace members'
pyprojects, so a new component needs only its images/<component>/Dockerfile.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "images"
SKIPPED = {"__pycache__", "build", "dist", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def settings() -> dict[str, str]:
    """images/images.env as a dict (KEY=VALUE lines; # comments)."""
    found = {}
    for line in (IMAGES / "images.env").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            key, value = line.split("=", 1)
            found[key.strip()] = value.strip()
    return found


def components() -> list[str]:
    return sorted(p.parent.name for p in IMAGES.glob("*/Dockerfile"))


def members() -> list[Path]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    folders: list[Path] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        folders += sorted(p for p in ROOT.glob(pattern) if (p / "pyproject.toml").is_file())
    return folders


def member(component: str) -> tuple[Path, str, str]:
    """(folder, distribution name, module path) of the package providing ``component``."""
    for folder in members():
        project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        points = project.get("entry-points", {}).get("podkit.components", {})
        if component in points:
            module = points[component].split(":", 1)[0].rsplit(".", 1)[0]
            return folder, project["name"], module
    raise SystemExit(f"image.py: no workspace package has a podkit.components entry {component!r}")


def version(component: str) -> str:
    folder, _, module = member(component)
    init = folder / "src" / Path(*module.split(".")) / "__init__.py"
    match = re.search(r'^__version__\s*=\s*"([^"]+)"', init.read_text(), re.M)
    if match is None:
        raise SystemExit(f"image.py: no __version__ in {init}")
    return match.group(1)


def name(component: str, repository: str | None = None) -> str:
    repository = (repository or settings()["REPOSITORY"]).rstrip("/")
    return f"{repository}/{component}:{version(component)}"


def files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not SKIPPED & set(path.relative_to(folder).parts)
        and not path.name.endswith((".pyc", ".so", ".egg-info"))
        and ".egg-info" not in str(path)
    )


def inputs(component: str) -> str:
    """sha256 over the image's build inputs: its Dockerfile folder, slim_rootfs.py, images.env,
    uv.lock, and the package's and the core's sources."""
    folder, _, _ = member(component)
    digest = hashlib.sha256()
    sources = [IMAGES / component, folder, ROOT / "core"]
    shared = [IMAGES / "images.env", IMAGES / "slim_rootfs.py", ROOT / "uv.lock"]
    for path in [*shared, *(f for source in sources for f in files(source))]:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def requirements(component: str) -> str:
    """uv.lock's pins (with hashes) of the package's dependencies and of core's ``fast`` extra,
    workspace packages left out (they go in as wheels), each requirement once."""
    uv = os.environ.get("UV", "uv").split()
    blocks: dict[str, str] = {}
    for package, extra in ((member(component)[1], []), ("podkit-core", ["--extra", "fast"])):
        out = subprocess.run(
            [*uv, "export", "--package", package, *extra, "--no-dev", "--no-emit-workspace",
             "--frozen", "--no-header", "--no-annotate"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        for block in re.split(r"\n(?=\S)", out.strip()):
            blocks.setdefault(block.split("==", 1)[0].lower(), block)
    return "\n".join(blocks[key] for key in sorted(blocks)) + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    command, *args = argv
    if command == "components":
        print("\n".join(components()))
    elif command == "name":
        print(name(*args[:2]))
    elif command == "package":
        print(member(args[0])[1])
    elif command == "version":
        print(version(args[0]))
    elif command == "base":
        print(settings()["BASE"])
    elif command == "inputs":
        print(inputs(args[0]))
    elif command == "requirements":
        print(requirements(args[0]), end="")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
