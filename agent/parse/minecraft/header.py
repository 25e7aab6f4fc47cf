"""Line prefixes: which format a line is in and what its prefix says.

One compiled regex per prefix format (groups A-I of shared/PARSING.md). The first
characters of a line pick the candidate format, so a line costs one regex match at most
(two for Bedrock's ``NO LOG FILE! - `` prefix). The level is kept as written
(``INFO``, ``WARNING``, BungeeCord's localised ``信息``); :mod:`agent.parse.levels` maps it.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from enum import Enum

from agent.parse.minecraft.text import strip_ansi, strip_colour


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
    Times are the server's local wall-clock time, as written. ``message`` has ANSI
    escapes removed but keeps ``§`` codes; the other fields have neither.
    """

    format: LineFormat
    date: tuple[int, int, int] | None  # (year, month, day)
    time: tuple[int, int, int, int] | None  # (hour, minute, second, microsecond)
    level: str | None
    thread: str | None
    logger: str | None
    message: str


# C, D and F share "[hh:mm:ss] [thread/LEVEL]"; the greedy thread group makes the split
# fall on the last "/" (thread names such as "RCON Client /127.0.0.1 #2" contain one).
# D's logger is followed by one space, or two on Velocity: the second is not message.
_LOG4J = re.compile(
    r"\[\d\d:\d\d:\d\d\] \[([^\]]*)/([A-Za-z]+)\]"
    r"(?::(?: |$)| \[([^\]]*)\]:(?: {1,2}|$)| \(([^)]*)\)(?: |$))"
)
# Group C alone, the most common prefix by far, in one match: the time as text (the key
# of the clock cache), thread, level and the message (log4j_c). A line with an ANSI
# escape does not match: parse_header removes them first.
_LOG4J_C = re.compile(r"\[(\d\d:\d\d:\d\d)\] \[([^\]\x1b]*)/([A-Za-z]+)\]:(?: |$)([^\x1b]*)\Z")
_CONSOLE = re.compile(r"\[\d\d:\d\d:\d\d ([A-Za-z]+)\](?: \[([^\]]*)\])?:(?: |$)")
_FORGE_DATED = re.compile(
    r"\[(\d\d)([^\W\d_]{3,5})\.?(\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{3})\] "
    r"\[([^\]]*)/([A-Za-z]+)\] \[([^\]]*)\]:(?: |$)"
)
_BEDROCK = re.compile(
    r"\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:[:.](\d{3}))? ([A-Za-z]+)\](?: |$)"
)
_BEDROCK_BARE = re.compile(r"\[(INFO|WARN|WARNING|ERROR|DEBUG|TRACE|FATAL|SEVERE)\](?: |$)")
_PRE_1_7 = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) \[([A-Za-z]+)\](?: |$)")
_BUNGEE = re.compile(r"(\d\d):(\d\d):(\d\d) \[([^\]\s]{1,16})\](?: |$)")

_NO_LOG_FILE = "NO LOG FILE! - "
_UNSEEN = object()
_CLOCK_CACHE: dict[str, object] = {}
_CLOCK_CACHE_SIZE = 4096
# Pre-1.7 "YYYY-MM-DD hh:mm:ss" -> (date, time): consecutive lines share their second.
_STAMP_CACHE: dict[str, tuple[tuple[int, int, int] | None, tuple[int, int, int, int]]] = {}
_HOUR_MINUTE = {f"{h:02d}:{m:02d}": (h, m) for h in range(24) for m in range(60)}
_SECOND = {f"{s:02d}": s for s in range(61)}  # 60: a leap second
_FORGE_1_6_LOGGER = "[Minecraft-Server] "

# Forge writes month names in the JVM's locale (English, German, French seen in the
# wild; JDK 8 and CLDR spellings). An unknown name gives date None, never an error.
_MONTHS = {
    **{name: number for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )},
    "mär": 3, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "sept": 9, "okt": 10, "dez": 12,
    "janv": 1, "févr": 2, "fév": 2, "mars": 3, "avr": 4, "juin": 6, "juil": 7,
    "août": 8, "déc": 12,
}  # fmt: skip


def _clean(field: str | None) -> str | None:
    """A prefix field without ``§`` codes (ANSI is already gone from the whole line)."""
    if field is None or "§" not in field:
        return field
    return strip_colour(field)


def _time(
    hour: str, minute: str, second: str, millis: str | None = None
) -> tuple[int, int, int, int] | None:
    """The time tuple, or None when the digits are not a wall-clock time."""
    h, m, s = int(hour), int(minute), int(second)
    if h > 23 or m > 59 or s > 60:
        return None
    return (h, m, s, int(millis) * 1000 if millis else 0)


def _date(year: int, month: int | None, day: int) -> tuple[int, int, int] | None:
    """The date tuple, or None when it is not a calendar date (31 April, 29 February 2023)."""
    if month is None or not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    if day > 28 and day > monthrange(year, month)[1]:
        return None
    return (year, month, day)


_C = LineFormat.LOG4J


def _clock(hhmmss: str) -> tuple[int, int, int, int] | None:
    """``HH:MM:SS`` as a time tuple; None when it is not a wall-clock time.

    Cached, as consecutive lines share their second; a miss is two table look-ups, not
    three int() parses (on a quiet server most seconds are new).
    """
    time = _CLOCK_CACHE.get(hhmmss, _UNSEEN)
    if time is _UNSEEN:
        if len(_CLOCK_CACHE) >= _CLOCK_CACHE_SIZE:
            _CLOCK_CACHE.clear()
        hour_minute = _HOUR_MINUTE.get(hhmmss[0:5])
        second = _SECOND.get(hhmmss[6:8])
        if hour_minute is None or second is None:
            time = None
        else:
            time = (hour_minute[0], hour_minute[1], second, 0)
        _CLOCK_CACHE[hhmmss] = time
    return time  # type: ignore[return-value]


def _log4j(text: str) -> Header | None:
    """Groups C, D, F: ``[hh:mm:ss] [thread/LEVEL]``, then ``: ``/``[logger]: ``/``(logger) ``."""
    match = _LOG4J.match(text)
    if match is None:
        return None
    time = _CLOCK_CACHE.get(text[1:9]) or _clock(text[1:9])
    if time is None:
        return None
    thread, level, logger, fabric = match.groups()
    if logger is None and fabric is None:  # C, the most common: nothing else to do
        if "§" in thread:
            thread = strip_colour(thread)
        return Header(_C, None, time, level, thread, None, text[match.end() :])
    if logger is not None:
        fmt = LineFormat.LOG4J_LOGGER
    else:
        fmt, logger = LineFormat.FABRIC_DEV, fabric
    return Header(fmt, None, time, level, _clean(thread), _clean(logger), text[match.end() :])


def _console(text: str) -> Header | None:
    """Group G: ``[hh:mm:ss LEVEL]: `` (Velocity adds `` [logger]`` before the colon)."""
    match = _CONSOLE.match(text)
    if match is None:
        return None
    time = _clock(text[1:9])
    if time is None:
        return None
    level, logger = match.groups()
    return Header(LineFormat.CONSOLE, None, time, level, None, _clean(logger), text[match.end() :])


def _bracketed(text: str) -> Header | None:
    """Formats whose prefix starts with ``[``: C, D, F, G, E, I and bare Bedrock."""
    if text[3:4] == ":":
        return _log4j(text) if text[9:10] == "]" else _console(text)
    if text[5:6] == "-":
        return _bedrock(text)
    if text[1:2].isdigit():
        return _forge_dated(text)
    match = _BEDROCK_BARE.match(text)
    if match is None:
        return None
    return Header(LineFormat.BEDROCK, None, None, match[1], None, None, text[match.end() :])


def _forge_dated(text: str) -> Header | None:
    match = _FORGE_DATED.match(text)
    if match is None:
        return None
    day, month, year, h, m, s, ms, thread, level, logger = match.groups()
    time = _time(h, m, s, ms)
    if time is None:
        return None
    date = _date(int(year), _MONTHS.get(month.lower()), int(day))
    return Header(
        LineFormat.FORGE_DATED,
        date,
        time,
        level,
        _clean(thread),
        _clean(logger),
        text[match.end() :],
    )


def _bedrock(text: str) -> Header | None:
    match = _BEDROCK.match(text)
    if match is None:
        return None
    year, month, day, h, m, s, ms, level = match.groups()
    time = _time(h, m, s, ms)
    if time is None:
        return None
    date = _date(int(year), int(month), int(day))
    return Header(LineFormat.BEDROCK, date, time, level, None, None, text[match.end() :])


def _pre_1_7(text: str) -> Header | None:
    """Group A, and B when the message starts with Forge 1.6's ``[Minecraft-Server]``."""
    match = _PRE_1_7.match(text)
    if match is None:
        return None
    stamp = _STAMP_CACHE.get(text[:19])
    if stamp is None:
        year, month, day, h, m, s = match.groups()[:6]
        time = _time(h, m, s)
        if time is None:
            return None
        stamp = (_date(int(year), int(month), int(day)), time)
        if len(_STAMP_CACHE) >= _CLOCK_CACHE_SIZE:
            _STAMP_CACHE.clear()
        _STAMP_CACHE[text[:19]] = stamp
    date, time = stamp
    level = match[7]
    message = text[match.end() :]
    if message.startswith(_FORGE_1_6_LOGGER):
        return Header(
            LineFormat.FORGE_1_6,
            date,
            time,
            level,
            None,
            "Minecraft-Server",
            message[len(_FORGE_1_6_LOGGER) :],
        )
    return Header(LineFormat.PRE_1_7, date, time, level, None, None, message)


def _bungee(text: str) -> Header | None:
    match = _BUNGEE.match(text)
    if match is None:
        return None
    h, m, s, level = match.groups()
    time = _time(h, m, s)
    if time is None:
        return None
    return Header(LineFormat.BUNGEE, None, time, _clean(level), None, None, text[match.end() :])


# What log4j_c gives: (time, level, thread, message).
Log4jC = tuple[tuple[int, int, int, int], str, str, str]


def log4j_c(text: str) -> Log4jC | None:
    """Format C (``[hh:mm:ss] [thread/LEVEL]: message``) in one match, as a tuple; None
    for any other line, a line with ANSI escapes, or a time that is not a wall-clock time.

    :func:`parse_header` tries it first (the most common line, one regex) and builds its
    :class:`Header` from the tuple.
    """
    match = _LOG4J_C.match(text)
    if match is None:
        return None
    hhmmss, thread, level, message = match.groups()
    time = _CLOCK_CACHE.get(hhmmss) or _clock(hhmmss)
    if time is None:
        return None
    if "§" in thread:
        thread = strip_colour(thread)
    return time, level, thread, message


def parse_header(text: str) -> Header | None:
    """Parse a line's prefix, or return None for a continuation line.

    Never raises: any text that is not one of the known prefixes is a continuation
    line (stack traces, banners, binary junk). ANSI escapes are removed first.
    """
    if "\x1b" in text:
        text = strip_ansi(text)
    prefix = log4j_c(text)
    if prefix is not None:  # the common case
        time, level, thread, message = prefix
        return Header(_C, None, time, level, thread, None, message)
    first = text[:1]
    if first == "[":
        if text[9:10] == "]" and text[3:4] == ":":  # D/F (or C with an impossible time)
            return _log4j(text)
        return _bracketed(text)
    if first.isdigit():
        if text[4:5] == "-":
            return _pre_1_7(text)
        if text[2:3] == ":":
            return _bungee(text)
        return None
    if first == "N" and text.startswith(_NO_LOG_FILE):
        rest = text[len(_NO_LOG_FILE) :]
        return _bracketed(rest) if rest[:1] == "[" else None
    return None
