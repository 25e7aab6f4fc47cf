"""Entry -> the body of ``POST /logs`` (shared/DESIGN.md, "Entry sent to the API"). Pure.

``{"level", "message", "meta"}``: ``level`` is the API's debug/info/warn/error
(:func:`agent.parse.levels.to_api_level`), ``message`` is the message without the line prefix,
``meta`` holds ``server_id``, ``tags``, ``timestamp`` (UTC ISO 8601), ``log_level``,
``thread``, ``logger``, the parsed fields under their mc-coal names, and ``event_id``.
``line`` (the raw text) only when asked for: it costs quota. ``truncated`` and
``decoding`` appear only when they are not the default (false, utf-8); so do
``control_chars`` (how many NUL characters were replaced by U+FFFD: agent/parse/lines.py)
and ``binary`` (true: mostly non-printable lines kept apart, agent/parse/multiline.py).
Absent values are omitted, never null.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import orjson

from agent.model import Decoding, Entry
from agent.parse.dates import format_utc_cached
from agent.parse.levels import to_api_level

_NEWLINE = orjson.OPT_APPEND_NEWLINE
_INT_MIN, _UINT_MAX = -(2**63), 2**64 - 1  # what orjson can encode as a number


def event_id(server_id: str, fingerprint: str, offset: int) -> str:
    """Stable id of an entry: blake2b (128 bits, hex) of ``server_id\\0fingerprint\\0offset``.

    The same line read again (after a crash, a re-parse) gets the same id; it is also the
    request's ``Idempotency-Key``.
    """
    raw = f"{server_id}\0{fingerprint}\0{offset}".encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def to_body(entry: Entry, *, raw_line: bool = False) -> dict[str, Any]:
    """The API body of ``entry`` as a dict (``raw_line``: include ``meta.line``)."""
    meta: dict[str, Any] = {"server_id": entry.server_id, "tags": entry.tags}
    if entry.timestamp is not None:
        meta["timestamp"] = format_utc_cached(entry.timestamp)
    if entry.log_level is not None:
        meta["log_level"] = entry.log_level
    if entry.thread is not None:
        meta["thread"] = entry.thread
    if entry.logger is not None:
        meta["logger"] = entry.logger
    for name, value in entry.fields.items():
        if value is not None:
            meta[name] = value
    meta["event_id"] = event_id(entry.server_id, entry.fingerprint, entry.offset)
    if raw_line:
        meta["line"] = entry.line
    if entry.truncated:
        meta["truncated"] = True
    if entry.decoding is not Decoding.UTF8:
        meta["decoding"] = entry.decoding.value
    if entry.control_chars:
        meta["control_chars"] = entry.control_chars
    if entry.binary:
        meta["binary"] = True
    return {"level": to_api_level(entry.log_level), "message": entry.message, "meta": meta}


def encode_body(entry: Entry, *, raw_line: bool = False) -> bytes:
    """The API body of ``entry`` as compact JSON bytes (orjson); never raises on odd values."""
    return encode_with_id(entry, raw_line=raw_line)[1]


def encode_with_id(entry: Entry, *, raw_line: bool = False) -> tuple[str, bytes]:
    """``(event_id, body bytes)``: what the spool stores for one entry."""
    body = to_body(entry, raw_line=raw_line)
    try:
        encoded = orjson.dumps(body)
    except orjson.JSONEncodeError:
        encoded = orjson.dumps(json_safe(body))
    return body["meta"]["event_id"], encoded


def encode_lines(entries: list[Entry], *, raw_line: bool = False) -> bytes:
    """Bodies as JSON lines (one object per line, each ending in ``\\n``).

    Each body is written to one buffer as soon as it is made, and its bytes freed: a list
    of every body joined at the end made each ``orjson.dumps`` take fresh pages from the
    system (about one page fault per entry: 11 % of ``parse``'s CPU, as system time).
    """
    if not entries:
        return b""
    buffer = io.BytesIO()
    write, dumps = buffer.write, orjson.dumps
    try:
        for entry in entries:
            write(dumps(to_body(entry, raw_line=raw_line), option=_NEWLINE))
    except orjson.JSONEncodeError:  # rare: redo the batch entry by entry, made safe
        return b"".join([encode_body(entry, raw_line=raw_line) + b"\n" for entry in entries])
    return buffer.getvalue()


def json_safe(value: Any) -> Any:
    """``value`` with what JSON (orjson) cannot hold as text: integers beyond 64 bits (a
    parsed ``Running 99999999999999999999ms``), non-string keys, unknown types."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if _INT_MIN <= value <= _UINT_MAX else str(value)
    return str(value)
