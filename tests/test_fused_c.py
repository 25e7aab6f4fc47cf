"""The fused path for format C lines: log4j_c, and the reader's entries with and without it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.model import Entry
from agent.parse import dates, reader
from agent.parse.dates import format_utc_cached
from agent.parse.minecraft import LineFormat, parse_header
from agent.parse.minecraft.header import log4j_c
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext

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


PIECES = [
    b"[10:00:00] [Server thread/INFO]: Starting minecraft server version 1.21.4\n",
    b"[10:00:01] [Server thread/ERROR]: failed\n",
    b"\tat a.b.C(C.java:1)\n",
    b"[10:00:02] [User Authenticator #1/INFO]: UUID of player Steve is 0000-1\n",
    b"[10:00:02] [Server thread/INFO]: Steve[/127.0.0.1:5000] logged in with entity id 1 at "
    b"(1.0, 64.0, 2.0)\n",
    b"[10:00:03] [Async Chat Thread - #1/INFO]: <Steve> hi\n",
    b"[10:00:03] [Server thread/INFO]: \x1b[33mSteve joined the game\x1b[0m\n",
    b"[10:00:04] [Server thread/INFO] [minecraft/DedicatedServer]: Done (1.0s)!\n",
    b"[10:00:05 ERROR]: console error\n",
    b"[10:00:05 ERROR]: \tat a.b.C(C.java:2)\n",
    b"[23:59:59] [Server thread/INFO]: Steve lost connection: Disconnected\n",
    b"[00:00:01] [Server thread/INFO]: Steve left the game\n",
    b"\x00\x01\x02\x03\x04\n",
    b"\n",
    b"[10:00:06] [Server thread/WARN]: no newline at the end",
]


def _entries(data: bytes, size: int, *, fused: bool) -> list:
    """Every entry the reader makes of ``data`` fed in chunks of ``size``, with an idle
    flush after every chunk (a live tail's), as comparable tuples."""
    with pytest.MonkeyPatch.context() as patch:
        if not fused:  # every line the general way: parse_header, the assembler, _build
            patch.setattr(reader, "log4j_c", lambda _text: None)
        options = ReaderOptions(timezone=UTC, multiline_max_lines=3, multiline_max_bytes=4096)
        context = ServerContext()
        entry_reader = EntryReader(
            server_id="s", fingerprint="f", options=options, date_hint=date(2026, 11, 21),
            context=context,
        )  # fmt: skip
        entries: list[Entry] = []
        commits = []
        for start in range(0, len(data), size):
            entries += entry_reader.feed(data[start : start + size], now=float(start))
            if start % (3 * size) == 0:
                entries += entry_reader.flush_idle(float(start) + 5.0)
            commits.append(entry_reader.committed_offset)
        entries += entry_reader.finish()
    return [*entries, commits, context.snapshot()]


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(st.sampled_from(PIECES), max_size=30),
    size=st.integers(min_value=1, max_value=200),
)
def test_the_fused_path_gives_the_general_paths_entries(parts: list[bytes], size: int) -> None:
    """Same entries (every field), checkpoints and context, with or without log4j_c."""
    data = b"".join(parts)
    general = _entries(data, size, fused=False)
    fused = _entries(data, size, fused=True)
    assert fused == general


def test_a_whole_second_is_remembered_after_the_iso_cache_was_cleared() -> None:
    """A second formatted once is looked up after (its lines share it), even when the
    cache was cleared after the converter made it; a fraction is not kept."""
    whole = datetime(2026, 11, 21, 18, 3, 12, tzinfo=UTC)
    fraction = datetime(2026, 11, 21, 18, 3, 12, 5000, tzinfo=UTC)
    dates._ISO_BY_MOMENT.clear()
    assert format_utc_cached(whole) == "2026-11-21T18:03:12Z"
    assert format_utc_cached(fraction) == "2026-11-21T18:03:12.005Z"
    assert {whole: "2026-11-21T18:03:12Z"} == dates._ISO_BY_MOMENT
