"""Settings: declaration, precedence (flags > env > file > defaults), aliases, errors, help."""

from __future__ import annotations

from pathlib import Path

import pytest

from podkit.core import HostPort, ServiceSettings, Settings, SettingsError, setting
from podkit.core import values as v


class SyncSettings(Settings):
    env_prefix = "GITSYNC_"
    env_alias_prefixes = ("GIT_SYNC_",)
    config_setting = "config"

    config: Path | None = setting(default=None, help="settings file")
    repo: str = setting(help="repository to sync")
    period: float = setting(default=10.0, parse=v.DURATION, help="how often")
    one_time: bool = setting(default=False, help="sync once and exit")
    depth: int = setting(default=1, help="history depth")
    listen_udp: v.HostPort | None = setting(
        default=v.HostPort("", 9125),
        parse=v.optional(v.HOST_PORT),
        flag="--statsd.listen-udp",
        help="UDP address",
    )
    parse_tags: bool = setting(
        default=True, flag="--statsd.parse-tags", negatable=True, help="parse tags"
    )
    credential: list[str] = setting(default_factory=list, repeatable=True, help="a credential")
    hosts: list[str] = setting(default_factory=lambda: ["a"], help="hosts")
    password: str = setting(default="", env="GITSYNC_PASSWORD", secret=True, help="password")
    verbose: int = setting(default=0, aliases=("-v",), help="verbosity")
    wait: float = setting(
        default=0.0, parse=v.DURATION, env_aliases=("GIT_SYNC_WAIT",), help="old spelling"
    )


def load(*argv: str, env: dict[str, str] | None = None) -> SyncSettings:
    return SyncSettings.load(list(argv), env or {}, prog="sync", version="sync 1")


def test_defaults_and_required() -> None:
    settings = load("--repo=https://example.com/r.git")
    assert settings.period == 10.0
    assert settings.one_time is False
    assert settings.listen_udp == v.HostPort("", 9125)
    assert settings.hosts == ["a"]
    with pytest.raises(SettingsError, match=r"--repo \(env GITSYNC_REPO\) is required"):
        load()


def test_precedence_flags_over_env_over_file_over_defaults(tmp_path: Path) -> None:
    file = tmp_path / "settings.yaml"
    file.write_text("repo: from-file\nperiod: 30s\ndepth: 5\nstatsd.listen-udp: ':1'\n")
    env = {"GITSYNC_CONFIG": str(file), "GITSYNC_PERIOD": "20s", "GITSYNC_DEPTH": "4"}
    settings = load("--depth=3", env=env)
    assert settings.repo == "from-file"  # file over default
    assert settings.period == 20.0  # env over file
    assert settings.depth == 3  # flag over env
    assert settings.listen_udp == v.HostPort("", 1)  # file key by flag name
    assert settings.config == file


def test_env_aliases_and_deprecation_notices() -> None:
    settings = load(env={"GIT_SYNC_REPO": "old", "GIT_SYNC_WAIT": "2s"})
    assert settings.repo == "old"
    assert settings.wait == 2.0
    assert "env GIT_SYNC_REPO is deprecated, use GITSYNC_REPO" in settings.notices
    # the primary name wins when both are set
    settings = load(env={"GIT_SYNC_REPO": "old", "GITSYNC_REPO": "new"})
    assert settings.repo == "new"
    assert settings.notices == []


def test_bool_flag_forms() -> None:
    assert load("--repo=r", "--one-time").one_time is True
    assert load("--repo=r", "--one-time=false").one_time is False
    with pytest.raises(SettingsError, match="unrecognized arguments: true"):
        load("--repo=r", "--one-time", "true")  # as in Go: the next word is not the value
    with pytest.raises(SettingsError, match=r"invalid value 'maybe' for --one-time"):
        load("--repo=r", "--one-time=maybe")
    assert load("--repo=r", "--one-time=false", "--one-time").one_time is True  # last wins
    assert load("--repo=r", "--no-statsd.parse-tags").parse_tags is False
    assert load("--repo=r", "--statsd.parse-tags=0").parse_tags is False
    assert load("--repo=r", env={"GITSYNC_ONE_TIME": "yes"}).one_time is True
    with pytest.raises(SettingsError, match="no-one-time"):
        load("--repo=r", "--no-one-time")  # only negatable settings get --no-


def test_repeatable_list_and_short_alias() -> None:
    settings = load("--repo=r", "--credential", "a", "--credential=b", "-v", "2", "--hosts=x,y")
    assert settings.credential == ["a", "b"]
    assert settings.verbose == 2
    assert settings.hosts == ["x", "y"]
    assert load("--repo=r", env={"GITSYNC_CREDENTIAL": "c,d"}).credential == ["c", "d"]


def test_empty_value_turns_an_optional_setting_off() -> None:
    assert load("--repo=r", "--statsd.listen-udp=").listen_udp is None


def test_bad_values_name_flag_env_value_and_expectation() -> None:
    with pytest.raises(SettingsError) as info:
        load("--repo=r", env={"GIT_SYNC_PERIOD": "often"})
    assert str(info.value) == (
        "invalid value 'often' for --period (env GITSYNC_PERIOD) from env GIT_SYNC_PERIOD: "
        "expected a duration such as 500ms, 10s or 1m30s (invalid duration 'often')"
    )
    with pytest.raises(SettingsError, match=r"'abc' for --depth \(env GITSYNC_DEPTH\) from flag"):
        load("--repo=r", "--depth=abc")


def test_secret_values_never_appear_in_errors_or_repr() -> None:
    class Secretive(Settings):
        token: int = setting(default=0, secret=True, help="numeric token")

    with pytest.raises(SettingsError) as info:
        Secretive.load(["--token=hunter2hunter2"], {})
    assert "hunter2" not in str(info.value)
    assert "<redacted>" in str(info.value)
    settings = load("--repo=r", env={"GITSYNC_PASSWORD": "hunter2hunter2"})
    assert settings.password == "hunter2hunter2"
    assert "hunter2" not in repr(settings)
    assert settings.secrets() == ["hunter2hunter2"]


def test_settings_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(
        SettingsError, match=r"cannot read settings file .*nope.yaml given by --config"
    ):
        load(f"--config={missing}")
    bad = tmp_path / "bad.yaml"
    bad.write_text("repo: [unclosed\n")
    with pytest.raises(SettingsError, match="is not valid YAML"):
        load(f"--config={bad}")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("repo: r\nperiodd: 1s\n")
    with pytest.raises(SettingsError, match="unknown setting 'periodd'"):
        load(f"--config={unknown}")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n")
    with pytest.raises(SettingsError, match="must hold a mapping"):
        load(f"--config={scalar}")
    typed = tmp_path / "typed.yaml"
    typed.write_text("repo: r\ndepth: [1, 2]\n")
    with pytest.raises(SettingsError, match=r"for --depth \(env GITSYNC_DEPTH\) from file"):
        load(f"--config={typed}")


def test_yaml_native_values(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text("repo: r\none-time: true\nperiod: 2.5\ncredential: [x, y]\nhosts: [p, q]\n")
    settings = load(f"--config={file}")
    assert settings.one_time is True
    assert settings.period == 2.5
    assert settings.credential == ["x", "y"]
    assert settings.hosts == ["p", "q"]


def test_unknown_flag_is_one_line_error() -> None:
    with pytest.raises(SettingsError, match=r"^unrecognized arguments: --bogus \(see --help\)$"):
        load("--repo=r", "--bogus")


def test_help_lists_every_setting_with_env_and_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        load("--help")
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for name, decl in SyncSettings.declarations().items():
        assert decl.flags[0] in text, name
        assert f"env {decl.env_names[0]}" in text, name
    assert "--period DURATION how often [env GITSYNC_PERIOD, GIT_SYNC_PERIOD; default 10s]" in text
    assert "--statsd.listen-udp HOST:PORT UDP address [env GITSYNC_LISTEN_UDP" in text
    assert "--repo REPO repository to sync [env GITSYNC_REPO, GIT_SYNC_REPO; required]" in text
    assert '[env GITSYNC_PASSWORD; default ""]' in text


def test_constructible_in_code_and_replace() -> None:
    settings = SyncSettings(repo="r", period=1.0)
    assert settings.period == 1.0
    assert settings.credential == []
    other = settings.replace(depth=9)
    assert (other.depth, other.repo, settings.depth) == (9, "r", 1)
    assert other != settings and settings.replace() == settings
    with pytest.raises(TypeError, match="no setting peroid"):
        SyncSettings(repo="r", peroid=1.0)
    # defaults are fresh per instance
    settings.credential.append("x")
    assert SyncSettings(repo="r").credential == []


def test_subclasses_do_not_share_declarations() -> None:
    class A(ServiceSettings):
        env_prefix = "A_"

    class B(ServiceSettings):
        env_prefix = "B_"
        setting_overrides = {"admin_listen": {"default": HostPort("", 9102)}}

    assert A.declarations()["log_level"].env_names == ("A_LOG_LEVEL",)
    assert B.declarations()["log_level"].env_names == ("B_LOG_LEVEL",)
    assert ServiceSettings.declarations()["log_level"].env_names == ("LOG_LEVEL",)
    assert A().admin_listen == HostPort("", 8080)
    assert B().admin_listen == HostPort("", 9102)
    with pytest.raises(TypeError, match="unknown setting"):

        class C(ServiceSettings):
            setting_overrides = {"nope": {"default": 1}}


def test_check_hook_validates_across_settings() -> None:
    class Ranged(Settings):
        low: int = setting(default=0, help="low")
        high: int = setting(default=10, help="high")

        def check(self) -> None:
            if self.low > self.high:
                raise SettingsError(f"--low ({self.low}) must not exceed --high ({self.high})")

    with pytest.raises(SettingsError, match="must not exceed"):
        Ranged.load(["--low=5", "--high=1"], {})


def test_positional_settings() -> None:
    class Positional(Settings):
        target: v.HostPort = setting(parse=v.host_port(9999), positional=True, help="target")
        config_file: str = setting(default="config.yaml", positional=True, help="config")
        dry_run: bool = setting(default=False, help="check only")

    # a bare boolean flag before the positionals does not swallow one
    settings = Positional.load(["--dry-run", "localhost:1", "c.yaml"], {})
    assert (settings.dry_run, settings.config_file) == (True, "c.yaml")
    with pytest.raises(TypeError, match=r"'check' would hide Settings\.check"):

        class Shadowing(Settings):
            check: bool = setting(default=False, help="shadows a method")

    settings = Positional.load(["localhost:1234", "x.yaml"], {})
    assert settings.target == v.HostPort("localhost", 1234)
    assert settings.config_file == "x.yaml"


def test_env_only_settings_have_no_flag(capsys: pytest.CaptureFixture[str]) -> None:
    class Private(Settings):
        env_prefix = "P_"
        token: str = setting(default="", no_flag=True, secret=True, help="an API token")
        port: int = setting(default=1, help="a port")

    assert Private.load([], {"P_TOKEN": "abcdefgh"}).token == "abcdefgh"
    with pytest.raises(SettingsError, match="unrecognized arguments: --token"):
        Private.load(["--token=x"], {})

    class Numeric(Settings):
        env_prefix = "P_"
        token: int = setting(default=0, no_flag=True, secret=True, help="numeric")

    with pytest.raises(SettingsError, match=r"^invalid value <redacted> for env P_TOKEN"):
        Numeric.load([], {"P_TOKEN": "not-a-number"})
    with pytest.raises(SystemExit):
        Private.load(["--help"], {})
    text = capsys.readouterr().out
    assert "settings read only from the environment:" in text
    assert "P_TOKEN" in text and "an API token" in text
