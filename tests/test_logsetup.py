"""The agent's own log: event names, journald priorities, JSON, and no token ever."""

from __future__ import annotations

import io
import json
import logging

import pytest

from agent.app.logsetup import (
    JsonFormatter,
    LogFormat,
    RedactingFilter,
    TextFormatter,
    configure_logging,
    redact,
)

TOKEN = "so_live_Zx81kPq0aa11bb22"


def _record(
    message: str, *args: object, level: int = logging.INFO, **extra: object
) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {
            "name": "agent.test",
            "levelno": level,
            "levelname": logging.getLevelName(level),
            "msg": message,
            "args": args or None,
        }
    )
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize(
    "text",
    [
        f"token {TOKEN} rejected",
        f"Authorization: Bearer {TOKEN}",
        "authorization: bearer abc.def-ghi/jkl==",
        f"url=https://x/logs?t={TOKEN}",
    ],
)
def test_secrets_are_redacted(text: str) -> None:
    """Token-shaped strings and bearer credentials never survive redaction."""
    cleaned = redact(text)
    assert "[REDACTED]" in cleaned
    assert TOKEN not in cleaned and "abc.def" not in cleaned


def test_filter_scrubs_arguments_too() -> None:
    """A token passed as a %s argument is scrubbed from the final message."""
    record = _record("api.unauthorized: token %s lacks scope logs:write", TOKEN)
    RedactingFilter().filter(record)
    assert TOKEN not in record.getMessage() and "logs:write" in record.getMessage()


def test_journald_text_has_syslog_priorities() -> None:
    """Under journald each line starts with <N>: 4 for warnings, 3 for errors."""
    formatter = TextFormatter(journald=True)
    assert formatter.format(_record("spool.full: paused", level=logging.WARNING)).startswith(
        "<4>warning spool.full"
    )
    assert formatter.format(_record("x.y: boom", level=logging.ERROR)).startswith("<3>")


def test_json_lines_carry_event_and_extra_fields() -> None:
    """JSON output names the event and keeps structured extra fields."""
    line = JsonFormatter().format(_record("file.rotated: %s", "latest.log", server_id="survival"))
    doc = json.loads(line)
    assert doc["event"] == "file.rotated" and doc["server_id"] == "survival"
    assert doc["level"] == "info" and doc["message"] == "file.rotated: latest.log"


def test_configure_logging_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed handler writes redacted JSON and silences httpx debug output."""
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    handler = configure_logging("debug", LogFormat.JSON)
    try:
        logging.getLogger("agent.x").info("api.unauthorized: %s", TOKEN)
        logging.getLogger("httpx").debug("headers: Authorization: Bearer %s", TOKEN)
    finally:
        logging.getLogger().removeHandler(handler)
    output = stream.getvalue()
    assert "api.unauthorized" in output and TOKEN not in output and "headers" not in output
