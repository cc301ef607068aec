"""The workspace as the shipping tests see it: its members, their names, scripts and READMEs.

Everything is read from the root pyproject's ``[tool.uv.workspace]`` members and each member's
own pyproject, so a new component is covered without editing the tests.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Member:
    """One package of the workspace."""

    folder: Path  # relative to ROOT
    name: str  # the distribution name, e.g. podkit-statsd-adapter
    scripts: tuple[str, ...]  # console scripts it installs
    components: tuple[str, ...]  # its `podkit.components` entry point names

    @property
    def readme(self) -> Path:
        return ROOT / self.folder / "README.md"


def _pyproject(folder: Path) -> dict[str, object]:
    return tomllib.loads((folder / "pyproject.toml").read_text())


@functools.cache
def members() -> tuple[Member, ...]:
    """The root package and every workspace member, in the root pyproject's order."""
    root = _pyproject(ROOT)
    found = []
    folders = [ROOT]
    for pattern in root["tool"]["uv"]["workspace"]["members"]:  # type: ignore[index]
        folders += sorted(ROOT.glob(pattern))
    for folder in folders:
        if not (folder / "pyproject.toml").is_file():
            continue
        project = _pyproject(folder)["project"]
        assert isinstance(project, dict)
        points = project.get("entry-points", {}).get("podkit.components", {})
        found.append(
            Member(
                folder=folder.relative_to(ROOT),
                name=project["name"],
                scripts=tuple(project.get("scripts", {})),
                components=tuple(points),
            )
        )
    return tuple(found)


def member_named(name: str) -> Member:
    """The member whose distribution name is ``name`` (extras and case ignored)."""
    bare = re.split(r"[\[<>=!~ ]", name, maxsplit=1)[0].lower().replace("_", "-")
    for member in members():
        if member.name == bare:
            return member
    raise LookupError(f"no workspace member is named {bare!r}")


def member_at(folder: str) -> Member:
    """The member in ``folder`` (``./adapters/statsd``, extras such as ``[fast]`` allowed)."""
    path = Path(re.sub(r"\[.*\]$", "", folder))
    for member in members():
        if member.folder == path:
            return member
    raise LookupError(f"no workspace member in {folder!r}")


def install_commands(readme: Path) -> list[str]:
    """The commands of the first ``sh`` block under the README's ``## Install`` heading, one per
    line (comments and blank lines left out)."""
    text = readme.read_text()
    section = re.search(r"^## Install\b.*?$(.*?)(?=^## |\Z)", text, re.S | re.M)
    if section is None:
        return []
    block = re.search(r"```sh\n(.*?)```", section.group(1), re.S)
    if block is None:
        return []
    commands = []
    for line in block.group(1).splitlines():
        command = line.split("#", 1)[0].strip()
        if command:
            commands.append(command)
    return commands


def clean_env() -> dict[str, str]:
    """This process's environment without the workspace's virtual environment in it."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env
