"""Settings from flags, env and file; cross-setting checks; the command line's exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from podkit.core import SettingsError
from podkit.log_streamer.outputs.spec import OutputSpec, parse_output
from podkit.log_streamer.settings import LogStreamerSettings


def test_flags_env_and_defaults() -> None:
    s = LogStreamerSettings.load(
        ["--path", "/a/*.log", "--path", "/b/*.log", "--output", "stdout", "--output",
         "relp://collector:2514", "--label", "team=shop", "--max-record-size", "64KiB"],
        {"LOG_STREAMER_EXCLUDE": "*.gz,*.1", "LOG_STREAMER_ROTATE_WAIT": "2s"},
    )  # fmt: skip
    assert s.path == ["/a/*.log", "/b/*.log"]
    assert s.exclude == ["*.gz", "*.1"]
    assert s.output == [OutputSpec("stdout"), OutputSpec("relp", host="collector", port=2514)]
    assert s.label == [("team", "shop")]
    assert s.max_record_size == 65536
    assert s.rotate_wait == 2.0
    assert s.format == "raw" and s.state_dir is None


def test_output_default_is_stdout_and_specs_parse() -> None:
    assert LogStreamerSettings(path=["/x"]).output == [OutputSpec("stdout")]
    assert parse_output("file:/tmp/o.log") == OutputSpec("file", "/tmp/o.log")
    assert parse_output("syslog://127.0.0.1:514").name == "syslog://127.0.0.1:514"
    assert parse_output("relp+tls://h:1").tls
    assert parse_output("loki:http://loki:3100").target == "http://loki:3100"
    for bad in ("kafka://x:1", "relp://:1", "loki:ftp://x", "file:"):
        with pytest.raises(ValueError):
            parse_output(bad)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "at least one --path"),
        ({"parser": "regex"}, "--parser regex needs --parse-regex"),
        ({"parse_regex": "plain"}, "named group"),
        ({"multiline_start": "^a", "multiline_continuation": "^b"}, "not both"),
        ({"output": [OutputSpec("stdout"), OutputSpec("stdout")]}, "given twice"),
        ({"disk_buffer_size": 1000}, "needs --state-dir"),
        ({"tls_ca_file": Path("/ca")}, "no output uses TLS"),
        ({"http_username": "u"}, "go together"),
        ({"http_bearer_token_file": Path("/t")}, "no loki or bulk output"),
    ],
)
def test_cross_setting_checks(values: dict[str, object], message: str) -> None:
    if "path" not in values and message != "at least one --path":
        values = {"path": ["/x/*.log"], **values}
    with pytest.raises(SettingsError, match=message):
        LogStreamerSettings(**values)  # type: ignore[arg-type]


def test_bad_values_name_the_flag_and_env() -> None:
    with pytest.raises(SettingsError) as info:
        LogStreamerSettings.load(["--path", "/x", "--multiline-start", "(unclosed"], {})
    assert "--multiline-start" in str(info.value) and "LOG_STREAMER_MULTILINE_START" in str(
        info.value
    )
    with pytest.raises(SettingsError, match="--output"):
        LogStreamerSettings.load(["--path", "/x", "--output", "carrier-pigeon"], {})


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podkit.log_streamer", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_bad_settings_exit_2_with_one_line() -> None:
    result = run("--output", "stdout")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "at least one --path" in result.stderr


def test_cli_help_lists_settings_with_env_vars() -> None:
    result = run("--help")
    assert result.returncode == 0
    for text in (
        "--path GLOB",
        "LOG_STREAMER_PATH",
        "--state-dir",
        "--disk-buffer-size",
        "--admin-listen",
    ):
        assert text in result.stdout
