"""Every README's install section, run as written in a clean virtual environment per command.

``pip install`` runs as ``uv pip install`` (same resolution, much faster); ``make dist`` is the
Makefile's recipe, run once per session by the ``checkout`` fixture. Any other command in an
install section fails the test: the section must hold only commands that are tested here.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from tests.shipping.workspace import (
    ROOT,
    Member,
    clean_env,
    install_commands,
    member_at,
    member_named,
    members,
)

READMES = [member.readme for member in members()]
COMMANDS = [(readme, command) for readme in READMES for command in install_commands(readme)]


def run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )


def requested(args: list[str]) -> list[Member]:
    """The workspace members a ``pip install`` names (folders or distribution names)."""
    wanted = []
    takes_value = {"--find-links", "-f", "--index-url", "-i", "--extra-index-url", "-c", "-r"}
    skip = False
    for arg in args:
        if skip or arg.startswith("-"):
            skip = arg in takes_value
            continue
        wanted.append(member_at(arg) if arg.startswith(("./", "../")) else member_named(arg))
    return wanted


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_readme_has_an_install_section(readme: Path) -> None:
    assert install_commands(readme), f"{readme.relative_to(ROOT)}: no ## Install sh block"


def test_make_dist_builds_every_wheel_and_sdist(checkout: Path) -> None:
    built = sorted(path.name for path in (checkout / "dist").iterdir())
    for member in members():
        stem = member.name.replace("-", "_")
        assert any(name.startswith(stem + "-") and name.endswith(".whl") for name in built), (
            member.name,
            built,
        )
        assert f"{stem}-" in " ".join(n for n in built if n.endswith(".tar.gz")), member.name


@pytest.mark.parametrize(
    ("readme", "command"),
    COMMANDS,
    ids=[f"{r.relative_to(ROOT)}:{c}" for r, c in COMMANDS],
)
def test_install_command_works_in_a_clean_venv(
    readme: Path, command: str, checkout: Path, tmp_path: Path
) -> None:
    argv = shlex.split(command)
    if argv == ["make", "dist"]:
        assert (checkout / "dist").is_dir()  # the fixture ran the recipe
        return
    assert argv[:2] == ["pip", "install"], f"untested command in an install section: {command}"
    venv = tmp_path / "venv"
    made = run(["uv", "venv", "--quiet", "--python", "python3", str(venv)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = run(["uv", "pip", "install", "--python", str(python), *argv[2:]], cwd=checkout)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    wanted = requested(argv[2:])
    assert wanted, f"{command} names no podkit package"
    core = member_named("podkit-core")
    for member in {*wanted, core}:
        # the version installed is this checkout's (not an unrelated package from an index)
        version = run(
            [
                str(python),
                "-c",
                f"import importlib.metadata as m; print(m.version({member.name!r}))",
            ],
            cwd=tmp_path,
        )
        assert version.returncode == 0, version.stderr
        assert any(
            path.name.startswith(f"{member.name.replace('-', '_')}-{version.stdout.strip()}")
            for path in (checkout / "dist").iterdir()
        ), (member.name, version.stdout)
        for script in member.scripts:
            helped = run([str(venv / "bin" / script), "--help"], cwd=tmp_path, timeout=60)
            assert helped.returncode == 0, helped.stdout + helped.stderr
            assert "usage" in helped.stdout.lower(), helped.stdout
        for component in member.components:
            loaded = run(
                [
                    str(python),
                    "-c",
                    "import importlib.metadata as m, sys; "
                    "[point] = m.entry_points(group='podkit.components', name=sys.argv[1]); "
                    "print(point.load().__name__)",
                    component,
                ],
                cwd=tmp_path,
            )
            assert loaded.returncode == 0, loaded.stderr
