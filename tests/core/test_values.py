"""Value parsers: durations, sizes, booleans, addresses, URLs, lists."""

from __future__ import annotations

import pytest

from podkit.core import values as v


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("500ms", 0.5),
        ("10s", 10.0),
        ("1m30s", 90.0),
        ("1.5h", 5400.0),
        ("2h45m", 9900.0),
        ("-1s", -1.0),
        ("+2m", 120.0),
        ("300us", 0.0003),
        ("300µs", 0.0003),
        ("7ns", 7e-9),
        (".5s", 0.5),
        ("1h1m1s1ms", 3661.001),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert v.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "1x", "s", "1m30", "ten seconds", "1 s", "--1s", "1s?"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        v.parse_duration(text)


def test_yaml_numbers_are_seconds_but_booleans_are_not() -> None:
    assert v.parse_duration(5) == 5.0
    assert v.parse_duration(0.25) == 0.25
    with pytest.raises(ValueError, match="boolean"):
        v.parse_duration(True)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.5, "500ms"), (10, "10s"), (90, "1m30s"), (3600, "1h0m0s"), (-2, "-2s")],
)
def test_duration_round_trip(seconds: float, text: str) -> None:
    assert v.format_duration(seconds) == text
    assert v.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("4096", 4096),
        ("64KB", 64000),
        ("64KiB", 65536),
        ("64Ki", 65536),
        ("1.5GiB", 1610612736),
        ("16mb", 16_000_000),
        (" 2 MiB ", 2097152),
        (12, 12),
    ],
)
def test_sizes(text: object, size: int) -> None:
    assert v.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "12XB", "-1", "1.5", "KiB", "0.3B"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError):
        v.parse_size(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("1", True),
        ("T", True),
        ("yes", True),
        ("on", True),
        ("false", False),
        ("0", False),
        ("F", False),
        ("no", False),
        ("off", False),
    ],
)
def test_booleans(text: str, value: bool) -> None:
    assert v.parse_bool(text) is value


def test_bad_boolean() -> None:
    with pytest.raises(ValueError, match="boolean"):
        v.parse_bool("maybe")


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:80", "127.0.0.1", 80),
        (":9125", "", 9125),
        ("[::1]:6379", "::1", 6379),
        ("redis.local:6380", "redis.local", 6380),
        ("host:0", "host", 0),
    ],
)
def test_host_port(text: str, host: str, port: int) -> None:
    parsed = v.parse_host_port(text)
    assert (parsed.host, parsed.port) == (host, port)


def test_host_port_text_and_bind_host() -> None:
    assert str(v.parse_host_port("[::1]:6379")) == "[::1]:6379"
    assert str(v.HostPort("", 9125)) == ":9125"
    assert v.HostPort("", 9125).bind_host is None
    assert v.HostPort("127.0.0.1", 1).bind_host == "127.0.0.1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("localhost", "missing port"),
        ("host:http", "not a number"),
        ("host:70000", "out of range"),
        ("::1:80", "brackets"),
        ("[::1", "unclosed"),
        ("", "empty"),
    ],
)
def test_bad_host_port(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        v.parse_host_port(text)


def test_host_port_with_default_port() -> None:
    parser = v.host_port(6379)
    assert parser("redis") == v.HostPort("redis", 6379)
    assert parser("redis:7000") == v.HostPort("redis", 7000)


def test_urls() -> None:
    assert v.HTTP_URL("https://example.com/hook") == "https://example.com/hook"
    assert v.URL("ssh://git@example.com/repo.git") == "ssh://git@example.com/repo.git"
    for bad, message in [
        ("example.com", "no scheme"),
        ("ftp://x", "scheme"),
        ("http://", "no host"),
        ("http://h:port/", "bad port"),
    ]:
        with pytest.raises(ValueError, match=message):
            v.HTTP_URL(bad)


def test_lists_and_optional() -> None:
    ints = v.list_of(v.INT)
    assert ints("1, 2,,3") == [1, 2, 3]
    assert ints("") == []
    assert ints([4, "5"]) == [4, 5]
    assert ints.text([1, 2]) == "1,2"
    with pytest.raises(ValueError):
        ints("1,x")
    maybe = v.optional(v.HOST_PORT)
    assert maybe("") is None
    assert maybe(":1") == v.HostPort("", 1)


def test_choice_and_numbers() -> None:
    mode = v.choice("auto", "always", "off")
    assert mode("ALWAYS") == "always"
    with pytest.raises(ValueError, match="not one of auto, always, off"):
        mode("sometimes")
    assert v.parse_int(3.0) == 3
    with pytest.raises(ValueError):
        v.parse_int("3.5")
    with pytest.raises(ValueError, match="finite"):
        v.parse_float("nan")
    with pytest.raises(ValueError, match="negative"):
        v.non_negative(v.DURATION)("-1s")
