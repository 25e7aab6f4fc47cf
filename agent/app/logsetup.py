"""The agent's own log: stderr, journald-friendly text or JSON lines.

Messages start with a stable event name (``file.rotated: …``, ``spool.full: …``) so they
can be grepped and alerted on. Under systemd (``$JOURNAL_STREAM`` set) each text line
gets a ``<N>`` syslog priority prefix, which journald turns into the entry's priority.

Defence in depth for the token: every record passes a filter that replaces anything
shaped like a ServerOps token or a bearer credential with ``[REDACTED]``, and httpx /
httpcore are held at WARNING so their debug output (which can include headers) never
reaches the log.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from datetime import UTC, datetime
from enum import StrEnum

import orjson


class LogFormat(StrEnum):
    """How the agent writes its own log lines on stderr (``[logging] format``, ``--log-format``)."""

    TEXT = "text"  # one line per event, journald-friendly
    JSON = "json"  # one JSON object per event, for a log collector


_SECRET = re.compile(r"(so_(?:live|test)_[A-Za-z0-9_\-]+|(?i:bearer)\s+[A-Za-z0-9._~+/\-]+=*)")
_EVENT = re.compile(r"^([a-z_]+(?:\.[a-z_]+)+): ")
_SYSLOG_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    """Replace token-shaped substrings with [REDACTED]."""
    return _SECRET.sub("[REDACTED]", text)


class RedactingFilter(logging.Filter):
    """Scrubs secrets from the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class TextFormatter(logging.Formatter):
    """``LEVEL event: message key=value`` with a syslog prefix under journald."""

    def __init__(self, *, journald: bool) -> None:
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        text = f"{record.levelname.lower()} {record.getMessage()}"
        if extras:
            text += " " + extras
        if record.exc_info:
            text += "\n" + redact(self.formatException(record.exc_info))
        if self.journald:
            prefix = f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>"
            return "\n".join(prefix + line for line in text.splitlines())
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{stamp} {text}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, event, message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        match = _EVENT.match(message)
        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": match.group(1) if match else None,
            "message": message,
            **_extras(record),
        }
        if record.exc_info:
            doc["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(doc, default=str).decode()


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {
        key: redact(str(value)) if isinstance(value, str) else value
        for key, value in record.__dict__.items()
        if key not in _STANDARD_ATTRS and not key.startswith("_")
    }


def configure_logging(
    level: str = "info", log_format: LogFormat = LogFormat.TEXT
) -> logging.Handler:
    """Install the agent's stderr handler on the root logger (replacing earlier ones)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if log_format == LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter(journald=bool(os.environ.get("JOURNAL_STREAM"))))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "hpack", "watchdog"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
