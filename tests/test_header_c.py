"""Format C in one match (log4j_c, parse_header's first try) and the ISO time cache."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.parse import dates
from agent.parse.dates import format_utc_cached
from agent.parse.minecraft import LineFormat, parse_header
from agent.parse.minecraft.header import log4j_c

# (line, (time, level, thread, message))
C_LINES = [
    ("[10:32:55] [Server thread/INFO]: Stopping server",
     ((10, 32, 55, 0), "INFO", "Server thread", "Stopping server")),
    ("[10:32:55] [RCON Client /127.0.0.1 #2/WARN]: a: b",
     ((10, 32, 55, 0), "WARN", "RCON Client /127.0.0.1 #2", "a: b")),
    ("[23:59:60] [Async Chat Thread - #1/INFO]: <Steve> hi",
     ((23, 59, 60, 0), "INFO", "Async Chat Thread - #1", "<Steve> hi")),
    ("[00:00:00] [Server thread/INFO]:", ((0, 0, 0, 0), "INFO", "Server thread", "")),
    ("[00:00:00] [Server thread/INFO]:  two spaces",
     ((0, 0, 0, 0), "INFO", "Server thread", " two spaces")),
    ("[10:00:00] [§aMain§r/INFO]: §ekept§r", ((10, 0, 0, 0), "INFO", "Main", "§ekept§r")),
]  # fmt: skip

NOT_C = [
    "[10:32:55] [Server thread/INFO] [minecraft/DedicatedServer]: Done",  # D
    "[10:32:55] [Server thread/INFO] (Minecraft) Done",  # F
    "[10:32:55 INFO]: Done",  # G
    "[10:32:55] [Server thread/INFO]:no space",
    "[25:00:00] [Server thread/INFO]: not a time",
    "[10:61:00] [Server thread/INFO]: not a time",
    "[10:32:55] [Server thread/INFO]: \x1b[31mred\x1b[0m",  # ANSI: parse_header's business
    "[10:32:55] [Server\x1b[0m thread/INFO]: x",
    "10:32:55 [INFO] Done",
    "\tat a.b.C(C.java:1)",
    "",
]


@pytest.mark.parametrize(("line", "expected"), C_LINES)
def test_log4j_c_gives_the_prefix_fields_and_the_message(line: str, expected: tuple) -> None:
    assert log4j_c(line) == expected
    header = parse_header(line)
    assert header is not None and header.format is LineFormat.LOG4J
    assert (header.time, header.level, header.thread, header.message) == expected


@pytest.mark.parametrize("line", NOT_C)
def test_log4j_c_refuses_every_other_line(line: str) -> None:
    assert log4j_c(line) is None


@settings(max_examples=300, deadline=None)
@given(
    clock=st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)),
    thread=st.text(st.sampled_from("ab /#-§[]:\x1b"), max_size=12),
    level=st.sampled_from(["INFO", "WARN", "ERROR", "x", ""]),
    rest=st.text(st.sampled_from("ab :[]()<>\x1b§"), max_size=12),
)
def test_log4j_c_agrees_with_parse_header(
    clock: tuple[int, int, int], thread: str, level: str, rest: str
) -> None:
    """Whenever log4j_c takes a line, parse_header reads the same C header from it."""
    line = "[{:02d}:{:02d}:{:02d}] [{}/{}]{}".format(*clock, thread, level, rest)
    fused = log4j_c(line)
    if fused is None:
        return
    header = parse_header(line)
    assert header is not None and header.format is LineFormat.LOG4J
    assert (header.time, header.level, header.thread, header.message) == fused


def test_a_whole_second_is_remembered_after_the_iso_cache_was_cleared() -> None:
    """A second formatted once is looked up after (its lines share it), even when the
    cache was cleared after the converter made it; a fraction is not kept."""
    whole = datetime(2026, 11, 21, 18, 3, 12, tzinfo=UTC)
    fraction = datetime(2026, 11, 21, 18, 3, 12, 5000, tzinfo=UTC)
    dates._ISO_BY_MOMENT.clear()
    assert format_utc_cached(whole) == "2026-11-21T18:03:12Z"
    assert format_utc_cached(fraction) == "2026-11-21T18:03:12.005Z"
    assert {whole: "2026-11-21T18:03:12Z"} == dates._ISO_BY_MOMENT
