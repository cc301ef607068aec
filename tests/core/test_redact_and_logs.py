"""Redaction of secrets, and the JSON and text log formats."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from podkit.core import Redactor, configure_logging, get_logger, redact


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "fetch https://user:pa55word@git.example.com/r.git failed",
            "fetch https://user:***@git.example.com/r.git failed",
        ),
        ("clone https://ghp_abcdef123456@github.com/o/r", "clone https://***@github.com/o/r"),
        ("redis://:secretpw@10.0.0.1:6379/0", "redis://:***@10.0.0.1:6379/0"),
        ("plain https://github.com/o/r stays", "plain https://github.com/o/r stays"),
        ("clone ssh://git@github.com/o/r.git", "clone ssh://git@github.com/o/r.git"),
        ("ssh://git:pw@github.com/o/r.git", "ssh://git:***@github.com/o/r.git"),
        ("password=hunter2 user=bob", "password=*** user=bob"),
        ("api_key: abc123, next", "api_key: ***, next"),
        ('{"token": "abc", "n": 1}', '{"token": "***", "n": 1}'),
        ('{"token": "", "n": 1}', '{"token": "", "n": 1}'),
        ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer ***"),
        ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic ***"),
        ("--password-file=/etc/git-secret/pw", "--password-file=/etc/git-secret/pw"),
        ("author=alice", "author=alice"),
        (
            "key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA\n-----END OPENSSH PRIVATE KEY-----",
            "key:\n-----*** PRIVATE KEY-----",
        ),
    ],
)
def test_shapes_that_are_always_secret(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_registered_values_are_hidden_anywhere() -> None:
    redactor = Redactor()
    redactor.add("s3cr3t-value\n", None, "", "abc")  # short values would mask noise: ignored
    assert redactor("echo s3cr3t-value | tee; abc") == "echo *** | tee; abc"
    redactor.add("s3cr3t-value-longer")
    assert redactor("x s3cr3t-value-longer y") == "x *** y"
    assert redactor.fields({"password": "x", "note": "has s3cr3t-value", "n": 3}) == {
        "password": "***",
        "note": "has ***",
        "n": 3,
    }


def log_lines(fmt: str, level: str = "info") -> tuple[io.StringIO, logging.Logger]:
    stream = io.StringIO()
    configure_logging(level, fmt, stream=stream)  # type: ignore[arg-type]
    return stream, logging.getLogger()


def test_json_lines_with_fields_and_redaction() -> None:
    stream, _ = log_lines("json")
    log = get_logger("podkit.test", Redactor(["tok-123456"])).bind(component="x")
    log.info("synced https://u:p@h/r with tok-123456", hash="abc", seconds=0.5, token="t0k3n!")
    log.debug("hidden at info")
    try:
        raise RuntimeError("boom password=pw1")
    except RuntimeError:
        log.exception("failed", attempt=2)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["msg"] == "synced https://u:***@h/r with ***"
    assert first["level"] == "info" and first["logger"] == "podkit.test"
    assert (first["hash"], first["seconds"], first["token"], first["component"]) == (
        "abc",
        0.5,
        "***",
        "x",
    )
    assert first["ts"].endswith("Z")
    assert second["error"] == "RuntimeError: boom password=***"
    assert "pw1" not in second["traceback"]
    assert second["attempt"] == 2


def test_text_format_and_level() -> None:
    stream, root = log_lines("text", "debug")
    get_logger("podkit.test").debug("hello", path="/a b", n=1, password="pw")
    line = stream.getvalue().strip()
    assert "DEBUG   podkit.test: hello" in line
    assert line.endswith('path="/a b" n=1 password=***')
    assert root.level == logging.DEBUG


def test_auto_format_is_json_off_a_terminal() -> None:
    stream, _ = log_lines("auto")
    get_logger("x").warning("w")
    assert json.loads(stream.getvalue())["level"] == "warning"


def test_configuring_twice_replaces_the_handler() -> None:
    log_lines("json")
    stream, root = log_lines("text")
    get_logger("x").info("once")
    assert stream.getvalue().count("once") == 1
    assert sum(type(h).__name__ == "_PodkitHandler" for h in root.handlers) == 1


def test_each_logger_hides_only_its_own_services_secrets() -> None:
    stream, _ = log_lines("json")
    first = get_logger("one", Redactor(["secret-of-one"]))
    second = get_logger("two", Redactor(["secret-of-two"])).child("auth")
    first.info("one has secret-of-one and sees secret-of-two")
    second.info("two has secret-of-two")
    second.redactor.add("learned-later")
    second.bind(k=1).info("then learned-later")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["msg"] for line in lines] == [
        "one has *** and sees secret-of-two",
        "two has ***",
        "then ***",
    ]
    assert lines[1]["logger"] == "two.auth"


def test_an_embedding_apps_own_handler_never_sees_a_secret() -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(logging.DEBUG)
    logger = logging.getLogger("embedded.app")
    logger.addHandler(handler)
    try:
        get_logger("embedded.app", Redactor(["hunter2-pw"])).warning(
            "login with hunter2-pw", url="https://u:hunter2-pw@h/", password="x"
        )
    finally:
        logger.removeHandler(handler)
    (record,) = records
    assert record.getMessage() == "login with ***"
    assert "hunter2-pw" not in repr(record.__dict__)


def test_records_from_other_libraries_use_the_configured_redactor() -> None:
    stream = io.StringIO()
    configure_logging("info", "json", stream=stream, redactor=Redactor(["lib-secret-1"]))
    logging.getLogger("some.library").warning("connecting with lib-secret-1 to %s", "https://a:b@h")
    line = json.loads(stream.getvalue())
    assert line["msg"] == "connecting with *** to https://a:***@h"
