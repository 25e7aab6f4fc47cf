"""The dead-letter file: entries the API refused for good, one JSON object a line.

Each line holds the time, the event_id, the server_id, the HTTP status, the API's answer
and the entry's body, so an operator can see why and send it again by hand. The file is
mode 0600 (entries name players and addresses) and every write is flushed and fsynced
*before* the entry leaves the spool: a crash in between repeats a line here, never loses
one.

``deadletter replay`` (:func:`replay`) puts chosen entries back in the spool with their
own ``event_id`` (the API deduplicates by it) and only then rewrites this file without
them (a new file renamed over the old one), so a crash in between leaves an entry in
both places, never in neither. It runs under the state dir's lock, so the daemon is not
appending here meanwhile.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from agent import events
from agent.errors import UnreadableStateError
from agent.state.spool import Record, Spool
from agent.state.statedir import ensure_state_dir

log = logging.getLogger(__name__)

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
    """The dead-letter file's records (for ``deadletter list``, ``status`` and tests); a
    line that is not a JSON object (damaged by hand) is shown as ``{"unreadable": text}``."""
    return [_record(line) for line in _lines(path)]


def count_dead_letters(path: Path) -> int:
    """How many entries wait in the dead-letter file (0 when there is none)."""
    return len(_lines(path))


def _lines(path: Path) -> list[bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise UnreadableStateError(f"{path}: cannot read: {exc.strerror}") from exc
    return [line for line in data.splitlines() if line.strip()]


def _record(line: bytes) -> dict[str, Any]:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        record = None
    if isinstance(record, dict):
        return record
    return {"unreadable": line.decode("utf-8", "replace")}


def error_code(record: dict[str, Any]) -> str | None:
    """The API's error code in a dead letter's answer (``payload_too_large``...), if any."""
    response = record.get("response")
    error = response.get("error") if isinstance(response, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code is not None else None


Selector = Callable[[dict[str, Any]], bool]


@dataclass(slots=True)
class ReplayResult:
    """What :func:`replay` did: entries put back in the spool, and those it could not
    replay (the entry was not JSON, or the line is damaged), which stay in the file."""

    replayed: list[str] = field(default_factory=list)  # event_ids
    unreplayable: int = 0
    kept: int = 0  # lines left in the file (not chosen, or unreplayable)


def replay(path: Path, spool: Spool, chosen: Selector) -> ReplayResult:
    """Put the dead letters ``chosen`` selects back in ``spool`` (same ``event_id``), then
    remove them from the file. Call it holding the state dir's lock."""
    result = ReplayResult()
    keep: list[bytes] = []
    records: list[Record] = []
    for line in _lines(path):
        record = _record(line)
        spooled = _as_record(record) if chosen(record) else None
        if spooled is not None:
            records.append(spooled)
            continue
        keep.append(line)
        if chosen(record):
            result.unreplayable += 1
    if not records:
        result.kept = len(keep)
        return result
    spool.append(records, None)  # committed before the file forgets them
    _rewrite(path, keep)
    result.replayed = [r.event_id for r in records]
    result.kept = len(keep)
    log.info(
        "%s: %d entries back in the spool, %d left in %s",
        events.DEADLETTER_REPLAYED,
        len(records),
        result.kept,
        path,
    )
    return result


def _as_record(record: dict[str, Any]) -> Record | None:
    entry, event_id, server_id = (record.get(k) for k in ("entry", "event_id", "server_id"))
    if not isinstance(entry, dict) or not isinstance(event_id, str):
        return None
    return Record(event_id, str(server_id or ""), orjson.dumps(entry))


def _rewrite(path: Path, lines: list[bytes]) -> None:
    """Replace the file by one holding ``lines``, atomically (temp file, fsync, rename)."""
    temp = path.with_name(f".{path.name}.replay")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"".join(line + b"\n" for line in lines))
        os.fsync(fd)
    finally:
        os.close(fd)
    temp.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
