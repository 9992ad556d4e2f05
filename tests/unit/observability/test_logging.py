"""Logging configuration and the redaction of credentials from every line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from onthedot.config import Settings
from onthedot.observability.logging import REDACTED, configure_logging


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Logging configured as `onthedot run` does, into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    configure_logging(Settings.model_construct(log_level="debug", log_format="json"), stream=out)
    try:
        yield out
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_stdlib_lines_become_json_with_their_extra_fields(json_logs: io.StringIO) -> None:
    logging.getLogger("onthedot.test").info("post %s sent", 7, extra={"post_id": 7, "attempt": 2})
    (line,) = lines(json_logs)
    assert line["event"] == "post 7 sent" and line["level"] == "info"
    assert line["logger"] == "onthedot.test" and line["post_id"] == 7 and line["attempt"] == 2
    assert str(line["timestamp"]).endswith("Z")


def test_structlog_lines_and_context_variables(json_logs: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(request_id="r-1"):
        structlog.get_logger("onthedot.test").info("hello", channel_id=3)
    (line,) = lines(json_logs)
    assert line == {**line, "event": "hello", "channel_id": 3, "request_id": "r-1"}


@pytest.mark.parametrize(
    "key",
    [
        "token",
        "access_token",
        "refresh_token",
        "password",
        "app_password",
        "secret",
        "Authorization",
        "credentials",
        "cookie",
        "client_secret",
        "bot_token",
    ],
)
def test_secret_keys_are_redacted_at_any_depth(json_logs: io.StringIO, key: str) -> None:
    logging.getLogger("t").warning("x", extra={key: "s3cr3t", "nested": {"a": {key: "s3cr3t"}}})
    structlog.get_logger("t").warning("y", headers=[(key, "s3cr3t")], deep={"l": [{key: "x"}]})
    text = json_logs.getvalue()
    assert "s3cr3t" not in text
    first, second = lines(json_logs)
    assert first[key] == REDACTED and first["nested"] == {"a": {key: REDACTED}}
    assert second["headers"] == [[key, REDACTED]]


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("calling with Authorization: Bearer abc.DEF-123_x", "Authorization: Bearer [redacted]"),
        ("GET https://x.test/cb?code=1&access_token=abc123&state=s", "access_token=[redacted]"),
        ('body {"password": "hunter2"}', '"password": "[redacted]'),
        ("token odt_AbCdEfGhIjKlMnOp leaked", "token [redacted] leaked"),
        ("app_password=abcd-efgh-ijkl-mnop", "app_password=[redacted]"),
    ],
)
def test_secrets_inside_text_are_redacted(json_logs: io.StringIO, message: str, kept: str) -> None:
    logging.getLogger("t").error(message)
    (line,) = lines(json_logs)
    assert kept in str(line["event"])
    for secret in ("abc.DEF-123_x", "abc123", "hunter2", "AbCdEfGhIjKlMnOp", "abcd-efgh"):
        assert secret not in json_logs.getvalue()


def test_a_traceback_is_redacted_too(json_logs: io.StringIO) -> None:
    try:
        raise RuntimeError("login failed for password=hunter2")
    except RuntimeError:
        logging.getLogger("t").exception("the adapter failed")
    (line,) = lines(json_logs)
    assert "RuntimeError" in str(line["exception"]) and "hunter2" not in json_logs.getvalue()


def test_levels_below_the_setting_are_dropped() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    configure_logging(
        Settings.model_construct(log_level="warning", log_format="console"), stream=out
    )
    try:
        logging.getLogger("t").info("quiet")
        logging.getLogger("t").warning("loud", extra={"post_id": 1})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()
    assert "quiet" not in out.getvalue()
    assert "loud" in out.getvalue() and "post_id=1" in out.getvalue()


def test_uvicorns_coloured_copy_of_the_message_is_dropped(json_logs: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 7, extra={"color_message": "Started \x1b[36m%d\x1b[0m"}
    )
    (line,) = lines(json_logs)
    assert line["event"] == "Started server process [7]" and "color_message" not in line
