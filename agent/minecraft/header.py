"""Line prefixes: which format a line is in and what its prefix says.

INTERFACE STUB: the full implementation (groups A-I) is being written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class LineFormat(Enum):
    """The prefix formats of shared/PARSING.md."""

    PRE_1_7 = "A"  # 2013-04-19 10:32:55 [INFO] msg
    FORGE_1_6 = "B"  # as A plus [Minecraft-Server]
    LOG4J = "C"  # [10:32:55] [Server thread/INFO]: msg
    LOG4J_LOGGER = "D"  # [10:32:55] [Server thread/INFO] [minecraft/DedicatedServer]: msg
    FORGE_DATED = "E"  # [09Jul2023 10:32:55.123] [Server thread/INFO] [net.minecraft...]: msg
    FABRIC_DEV = "F"  # [10:32:55] [Server thread/INFO] (Minecraft) msg
    CONSOLE = "G"  # [10:32:55 INFO]: msg
    BUNGEE = "H"  # 10:32:55 [INFO] msg
    BEDROCK = "I"  # [2023-01-01 12:00:00:123 INFO] msg


@dataclass(slots=True)
class Header:
    """What a line's prefix says; ``message`` is the rest of the line.

    ``date`` is set only when the prefix carries one (groups A, B, E, I); ``time`` is
    ``None`` for prefixes without a time (Bedrock's bare ``[INFO] ...`` lines).
    Times are the server's local wall-clock time, as written.
    """

    format: LineFormat
    date: tuple[int, int, int] | None  # (year, month, day)
    time: tuple[int, int, int, int] | None  # (hour, minute, second, microsecond)
    level: str | None
    thread: str | None
    logger: str | None
    message: str


_LOG4J = re.compile(r"\[(\d\d):(\d\d):(\d\d)\] \[(.*)/([A-Z]+)\]: ")


def parse_header(text: str) -> Header | None:
    """Parse a line's prefix, or return None for a continuation line."""
    match = _LOG4J.match(text)
    if match is None:
        return None
    hour, minute, second, thread, level = match.groups()
    return Header(
        LineFormat.LOG4J,
        None,
        (int(hour), int(minute), int(second), 0),
        level,
        thread,
        None,
        text[match.end() :],
    )
