"""The dead-letter file: entries the API refused for good, one JSON object a line.

Each line holds the time, the event_id, the server_id, the HTTP status, the API's answer
and the entry's body, so an operator can see why and send it again by hand. The file is
mode 0600 (entries name players and addresses) and every write is flushed and fsynced
*before* the entry leaves the spool: a crash in between repeats a line here, never loses
one.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from agent.state.statedir import ensure_state_dir

DEAD_LETTER_FILE = "dead-letter.ndjson"
MAX_ANSWER_BYTES = 64 * 1024


class DeadLetterFile:
    """Appends refused entries to an NDJSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(
        self, *, event_id: str, server_id: str, status: int, answer: bytes, body: bytes
    ) -> None:
        """Append one refused entry and make it durable."""
        line = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "event_id": event_id,
            "server_id": server_id,
            "status": status,
            "response": _json_or_text(answer[:MAX_ANSWER_BYTES]),
            "entry": _json_or_text(body),
        }
        ensure_state_dir(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, orjson.dumps(line) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)


def _json_or_text(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data.decode("utf-8", "replace")


def read_dead_letters(path: Path) -> list[dict[str, Any]]:
    """The dead-letter file's records (for ``status`` and tests)."""
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line]
