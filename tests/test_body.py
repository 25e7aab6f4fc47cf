"""Entry -> POST /logs body: level table, meta fields, omissions, flags, stable event id."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from agent.encode.body import encode_body, encode_lines, event_id, to_body
from agent.model import Decoding, Entry


def entry(**changes: object) -> Entry:
    """A chat entry, with some fields changed."""
    values: dict[str, object] = {
        "server_id": "survival",
        "fingerprint": "abc",
        "offset": 42,
        "end": 90,
        "message": "<Steve> hi",
        "line": "[18:03:12] [Async Chat Thread - #0/INFO]: <Steve> hi",
        "timestamp": datetime(2026, 11, 21, 18, 3, 12, tzinfo=UTC),
        "log_level": "INFO",
        "thread": "Async Chat Thread - #0",
        "tags": ["timestamp", "chat"],
        "fields": {"username": "Steve", "chat": "hi"},
    }
    values.update(changes)
    return Entry(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("server_level", "api_level"),
    [
        ("INFO", "info"),
        ("WARN", "warn"),
        ("WARNING", "warn"),
        ("ERROR", "error"),
        ("SEVERE", "error"),
        ("FATAL", "error"),
        ("DEBUG", "debug"),
        ("TRACE", "debug"),
        ("FINE", "debug"),
        ("FINER", "debug"),
        ("FINEST", "debug"),
        ("信息", "info"),
        ("警告", "warn"),
        ("严重", "error"),
        ("info", "info"),
        ("NOTALEVEL", "info"),
        (None, "info"),
    ],
)
def test_level_mapping(server_level: str | None, api_level: str) -> None:
    """Server levels map onto debug/info/warn/error; unknown or absent is info."""
    assert to_body(entry(log_level=server_level))["level"] == api_level


def test_body_shape_matches_the_design() -> None:
    """The body is level, message without prefix, and meta with the mc-coal names."""
    assert to_body(entry()) == {
        "level": "info",
        "message": "<Steve> hi",
        "meta": {
            "server_id": "survival",
            "tags": ["timestamp", "chat"],
            "timestamp": "2026-11-21T18:03:12Z",
            "log_level": "INFO",
            "thread": "Async Chat Thread - #0",
            "username": "Steve",
            "chat": "hi",
            "event_id": event_id("survival", "abc", 42),
        },
    }


def test_absent_values_are_omitted_never_null() -> None:
    """No timestamp, level, thread, logger or None field: the keys are absent."""
    meta = to_body(entry(timestamp=None, log_level=None, thread=None, fields={"username": None}))[
        "meta"
    ]
    assert set(meta) == {"server_id", "tags", "event_id"}
    assert b"null" not in encode_body(entry(timestamp=None, fields={"ip": None}))


def test_logger_raw_line_and_flags_only_when_set() -> None:
    """logger, line (on request), truncated and decoding appear only when not the default."""
    meta = to_body(
        entry(logger="minecraft/DedicatedServer", truncated=True, decoding=Decoding.FALLBACK),
        raw_line=True,
    )["meta"]
    assert meta["logger"] == "minecraft/DedicatedServer"
    assert meta["line"].startswith("[18:03:12]")
    assert meta["truncated"] is True
    assert meta["decoding"] == "fallback"
    plain = to_body(entry())["meta"]
    assert not {"logger", "line", "truncated", "decoding"} & set(plain)


def test_event_id_is_stable_and_distinct() -> None:
    """The id depends only on server, file fingerprint and offset, as a 128-bit hex digest."""
    first = event_id("survival", "abc", 42)
    assert first == event_id("survival", "abc", 42)
    assert len(first) == 32 and int(first, 16) >= 0
    assert len({first, event_id("creative", "abc", 42), event_id("survival", "abd", 42)}) == 3
    assert event_id("survival", "abc", 43) != first
    assert to_body(entry(message="other"))["meta"]["event_id"] == first


def test_fractional_seconds_only_when_present() -> None:
    """A timestamp with milliseconds keeps them; a whole second has no fraction."""
    stamp = datetime(2026, 11, 21, 18, 3, 12, 250000, tzinfo=UTC)
    assert to_body(entry(timestamp=stamp))["meta"]["timestamp"] == "2026-11-21T18:03:12.250Z"


def test_encoders_emit_json_lines() -> None:
    """encode_lines gives one compact JSON object per line, equal to to_body."""
    entries = [entry(), entry(offset=100, message="second")]
    data = encode_lines(entries, raw_line=True)
    assert data.endswith(b"\n") and data.count(b"\n") == 2
    assert [orjson.loads(row) for row in data.splitlines()] == [
        to_body(e, raw_line=True) for e in entries
    ]
    assert encode_lines([]) == b""
    assert orjson.loads(encode_body(entries[0])) == to_body(entries[0])


def test_values_json_cannot_hold_become_text() -> None:
    """An integer beyond 64 bits or an odd type is encoded as text, never an exception."""
    odd = entry(fields={"lag_ms": 10**30, "nested": {"n": -(10**30), 1: (1, 2)}, "x": object})
    for data in (encode_body(odd), encode_lines([entry(), odd]).splitlines()[1]):
        meta = orjson.loads(data)["meta"]
        assert meta["lag_ms"] == str(10**30)
        assert meta["nested"] == {"n": str(-(10**30)), "1": [1, 2]}
        assert meta["x"] == str(object)
