"""Generated settings documentation: the table's content, and READMEs that are up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from podkit.core import HostPort, ServiceSettings, setting
from podkit.core.docs import BEGIN, END, replace_block, settings_markdown

ROOT = Path(__file__).resolve().parents[2]


class DocSettings(ServiceSettings):
    env_prefix = "DOC_"
    address: HostPort = setting(default=HostPort("", 1), help="where | to listen", group="net")
    tags: bool = setting(default=True, negatable=True, flag="--x.tags", help="parse tags")


def test_table_lists_flags_env_defaults_and_escapes_pipes() -> None:
    table = settings_markdown(DocSettings)
    assert "| `--address` | `DOC_ADDRESS` | `:1` | where \\| to listen |" in table
    assert "| `--x.tags`, `--no-x.tags` | `DOC_TAGS` | `true` | parse tags |" in table
    assert table.index("--address") < table.index("--log-level")  # general settings come last


def test_replace_block_needs_markers() -> None:
    assert replace_block(f"a\n{BEGIN}\nold\n{END}\nb", "new\n") == f"a\n{BEGIN}\nnew\n{END}\nb"
    with pytest.raises(ValueError, match="no settings markers"):
        replace_block("no markers", "x")


def test_package_readmes_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
