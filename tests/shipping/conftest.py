"""Fixtures of tests/shipping: a scratch copy of the checkout with `make dist` run in it, once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.shipping.workspace import ROOT, clean_env

# Made by the build or by the user: never part of the scratch copy.
LEFT_OUT = {".git", ".venv", "dist", "build", ".e2e", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that looks like a fresh checkout (the top-level files, links to the folders) where ``make dist`` has
    run: the Makefile's own recipe, with the bootstrap step (uv, the workspace venv) skipped."""
    folder = tmp_path_factory.mktemp("checkout")
    for entry in ROOT.iterdir():
        if entry.name in LEFT_OUT:
            continue
        if entry.is_dir():
            (folder / entry.name).symlink_to(entry)
        else:  # an sdist must not hold links to absolute paths
            shutil.copy2(entry, folder / entry.name)
    made = subprocess.run(
        ["make", "-s", "dist", "BOOTSTRAP=echo uv; :"],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    return folder
