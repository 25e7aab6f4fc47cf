"""Dates for log lines that carry only a wall-clock time, and their conversion to UTC.

Pure apart from :func:`host_timezone` (reads the host's zone once, at the edge); the
clock is injected. The rules (shared/PARSING.md, "Time"):

* **Start date.** A rotated file's name ``YYYY-MM-DD-N.log(.gz)`` gives its date, handed
  in as ``date_hint`` by the caller (file names are agent/sources/logfiles.py's business,
  not the parser's). A file read after the fact (``parse``, ``backfill``, the daemon
  catching up on what was written while it was down) is dated from its end: its mtime is
  when its last line was written, and counting back over the file's lines, each step back
  past midnight (:class:`DayCounter`, the same rule as "Next day" below) is a day earlier;
  :func:`start_date_from_end` gives the date of its first line, handed in as ``date_hint``.
  Only lines read live use the clock: the server-local date of "now",
  except that a line time more than :data:`AHEAD_TOLERANCE` ahead of now's local time
  cannot have been written today, so it belongs to yesterday (latest.log read just after
  midnight still holds yesterday's lines).
* **Next day.** A time more than :data:`BACKWARDS_THRESHOLD` (2 h) earlier than the line
  before means midnight passed. Smaller steps back stay on the same day: a DST fall-back
  repeats one hour and NTP steps are seconds to minutes, so neither is misread. The cost:
  a file silent for more than 22 h across a midnight keeps the old date (log4j rolls
  latest.log on the first line after midnight, so only size-rolled files can show this).
* **Full dates.** Formats that carry a date (groups A, B, E, I) use it and reset the
  inference to it.
* **DST rule.** Local times are converted with ``zoneinfo``. A time in a *gap* (spring
  forward, e.g. 02:30 that never happened) uses the offset in force before the gap
  (``fold=0``), i.e. it lands one hour later in real time than written, the way a clock
  that missed the change would read. A time in an *overlap* (fall back, 02:30 twice) is
  the first occurrence (``fold=0``) until the times of the file step back into the
  repeated hour; from then on it is the second occurrence (``fold=1``) until the
  repeated hour is left. So UTC never goes backwards across a fall-back.
* **Output.** UTC ISO 8601 with ``Z``; fractional seconds only when the line had a
  non-zero fraction (milliseconds when whole, else microseconds).

Conversions are cached per local second: they are on the hot path.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BACKWARDS_THRESHOLD = 2 * 3600  # seconds a time may step back and still be the same day
AHEAD_TOLERANCE = 3600  # seconds a line time may be ahead of the clock and still be today
_CACHE_LIMIT = 128  # cached minutes per converter (lines come in order: recent ones suffice)
_ISO_LIMIT = 4096  # formatted seconds kept (bounded memory, under a MB)

LocalTime = tuple[int, int, int, int]  # hour, minute, second, microsecond
Clock = Callable[[], float]  # seconds since the epoch


def host_timezone() -> tzinfo:
    """The host's timezone as a DST-aware zone: ``$TZ``, ``/etc/localtime``, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    localtime = Path("/etc/localtime")
    try:
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
        with localtime.open("rb") as file:
            return ZoneInfo.from_file(file, key="localtime")
    except (OSError, ZoneInfoNotFoundError, ValueError):
        return UTC


def load_timezone(name: str | None) -> tzinfo:
    """The zone named ``name`` (None: the host's); ValueError for an unknown name."""
    if name is None:
        return host_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}") from exc


def format_utc(moment: datetime) -> str:
    """UTC ISO 8601 with ``Z``; a fraction only when there is one (ms when whole ms)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    micro = moment.microsecond
    if not micro:
        return moment.isoformat()[:-6] + "Z"  # drop "+00:00"
    spec = "milliseconds" if micro % 1000 == 0 else "microseconds"
    return moment.isoformat(timespec=spec)[:-6] + "Z"


_ISO_BY_MOMENT: dict[datetime, str] = {}  # filled by LocalToUtc as it makes each second


def format_utc_cached(moment: datetime) -> str:
    """:func:`format_utc`, cached: the seconds :class:`LocalToUtc` made are pre-formatted."""
    text = _ISO_BY_MOMENT.get(moment)
    if text is None:
        text = format_utc(moment)
        if not moment.microsecond:  # whole seconds recur (the lines of one second); the
            _remember_iso(moment, text)  # cache may have been cleared since it was made
    return text


def _remember_iso(moment: datetime, text: str) -> None:
    if len(_ISO_BY_MOMENT) >= _ISO_LIMIT:
        _ISO_BY_MOMENT.clear()
    _ISO_BY_MOMENT[moment] = text


def _is_ambiguous(local: datetime) -> bool:
    """True when this wall time happens twice (a DST fall-back overlap)."""
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()


class LocalToUtc:
    """Converts server-local wall times to aware UTC datetimes.

    The zone's offset cannot change inside a minute, so one zone lookup per minute is
    enough: the minute's UTC start is cached, and its seconds are filled in as they come
    (lines arrive in order, so the current minute is almost always the one asked for).
    """

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._minutes: dict[tuple[int, int, int, int], list[Any]] = {}
        self._key: tuple[int, int, int, int] | None = None
        self._seconds: list[Any] = []

    def convert(self, day: date, wall: LocalTime, fold: int = 0) -> datetime:
        """The UTC instant of ``wall`` on ``day`` (see the module's DST rule)."""
        hour, minute, second, micro = wall
        key = (day.toordinal(), hour, minute, fold)
        if key != self._key:
            self._key = key
            self._seconds = self._minute(key, day, hour, minute, fold)
        seconds = self._seconds
        moment = seconds[second] if second < 60 else None
        if moment is None:
            start, prefix = seconds[60], seconds[61]
            if start.second == 0 and second < 60:
                moment = seconds[second] = start.replace(second=second)
                _remember_iso(moment, f"{prefix}{second:02d}Z")
            else:  # a historical offset with seconds (LMT), or a leap second: rare, uncached
                moment = start + timedelta(seconds=second)
        return moment.replace(microsecond=micro) if micro else moment

    def _minute(
        self, key: tuple[int, int, int, int], day: date, hour: int, minute: int, fold: int
    ) -> list[Any]:
        """The seconds of one minute; then the minute's UTC start and its ISO prefix."""
        seconds = self._minutes.get(key)
        if seconds is None:
            if len(self._minutes) >= _CACHE_LIMIT:
                self._minutes.clear()
            local = datetime(day.year, day.month, day.day, hour, minute, fold=fold)
            start = local.replace(tzinfo=self.zone).astimezone(UTC)
            prefix = start.replace(tzinfo=None).isoformat()[:-2]  # "2026-11-21T18:03:"
            seconds = self._minutes[key] = [None] * 60 + [start, prefix]
        return seconds

    def is_ambiguous(self, day: date, wall: LocalTime) -> bool:
        """True when ``wall`` on ``day`` happens twice in this zone."""
        hour, minute, second, _ = wall
        local = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=self.zone)
        return _is_ambiguous(local)


def _seconds_of_day(wall: LocalTime) -> int:
    return wall[0] * 3600 + wall[1] * 60 + wall[2]


# A line that starts with a time of day only: [10:32:55] (groups C, D, F), [10:32:55 INFO]
# (G), 10:32:55 [INFO] (H). Lines with a full date (A, B, E, I) do not match: they reset
# the date themselves.
_TIME_ONLY_START = re.compile(rb"^\[?(\d\d):(\d\d):(\d\d)[\] ]", re.MULTILINE)
_HEAD_KEPT = 16  # bytes of a line split across chunks that the match needs
GIVE_UP_BYTES = 64 * 1024  # no time-only line in this many bytes: the lines carry dates


class DayCounter:
    """Counts the midnights a stream of time-only lines crosses, fed bytes in any chunks.

    The rule is :class:`DateTracker`'s: a step back of more than BACKWARDS_THRESHOLD is
    the next day. ``gave_up`` is set when the first GIVE_UP_BYTES hold no time-only line
    (a pre-1.7 ``server.log``: its lines carry their dates), so a caller can stop reading.
    """

    def __init__(self) -> None:
        self.midnights = 0
        self.last: int | None = None  # seconds of day of the last time-only line
        self.gave_up = False
        self._head = b""  # the start of a line the last chunk ended in
        self._seen = 0

    def feed(self, data: bytes) -> None:
        """Count the time-only lines completed by ``data``."""
        data = self._head + data
        self._seen += len(data) - len(self._head)
        end = data.rfind(b"\n") + 1
        for match in _TIME_ONLY_START.finditer(data, 0, end):
            self._add(match)
        self._head = data[end : end + _HEAD_KEPT]
        self.gave_up = self.last is None and self._seen >= GIVE_UP_BYTES

    def finish(self) -> None:
        """The end of the stream: a last line without its newline counts too."""
        match = _TIME_ONLY_START.match(self._head)
        if match is not None:
            self._add(match)
        self._head = b""

    def _add(self, match: re.Match[bytes]) -> None:
        seconds = int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3])
        last = self.last
        if last is not None and last - seconds > BACKWARDS_THRESHOLD:
            self.midnights += 1
        self.last = seconds


def start_date_from_end(counter: DayCounter, end: datetime) -> date:
    """The date of a stream's first line, from ``end`` (when its last line was written, in
    the server's zone) and the midnights ``counter`` saw. A last line more than
    AHEAD_TOLERANCE later in the day than ``end`` was written the day before (an mtime
    just after midnight)."""
    end_day = end.date()
    end_seconds = end.hour * 3600 + end.minute * 60 + end.second
    if counter.last is not None and counter.last - end_seconds > AHEAD_TOLERANCE:
        end_day -= timedelta(days=1)
    return end_day - timedelta(days=counter.midnights)


class DateTracker:
    """Infers the date of each line of one stream and converts it to UTC.

    ``date_hint`` is the file's date when known (rotated file name, ``--date``);
    otherwise the date comes from ``clock`` the first time a line needs one.
    """

    def __init__(
        self,
        converter: LocalToUtc,
        *,
        date_hint: date | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.converter = converter
        self._clock = clock
        self._day: date | None = date_hint
        self._last: int | None = None  # seconds of day of the previous timed line
        self._fold = 0
        self._last_wall: LocalTime | None = None
        self._last_result: datetime | None = None

    def use_clock(self) -> None:
        """From the next line on, take the start date from the clock (lines read live)."""
        self._day = self._last = self._last_wall = self._last_result = None
        self._fold = 0

    @property
    def current_date(self) -> date | None:
        """The date the next time-only line would get (None until one is known)."""
        return self._day

    def resolve(self, day: tuple[int, int, int] | None, wall: LocalTime) -> datetime | None:
        """The UTC instant of a line with this (optional) date and time; None if impossible."""
        if wall == self._last_wall and day is None:
            return self._last_result  # the same second as the line before: nothing changes
        result = self._resolve(day, wall)
        self._last_wall, self._last_result = (wall, result) if day is None else (None, None)
        return result

    def _resolve(self, day: tuple[int, int, int] | None, wall: LocalTime) -> datetime | None:
        seconds = _seconds_of_day(wall)
        last = self._last
        stepped_back = last is not None and seconds < last
        if day is not None:
            try:
                current = date(*day)
            except ValueError:
                return None
            if current != self._day:
                self._day, self._fold, stepped_back = current, 0, False
        elif self._day is None:
            self._day = self._start_date(seconds)
        elif stepped_back and last - seconds > BACKWARDS_THRESHOLD:  # type: ignore[operator]
            self._day += timedelta(days=1)
            self._fold, stepped_back = 0, False
        self._last = seconds
        if stepped_back or self._fold:
            # Only here is the (rare, uncached) ambiguity check worth its cost.
            self._fold = int(self.converter.is_ambiguous(self._day, wall))
        try:
            return self.converter.convert(self._day, wall, self._fold)
        except (ValueError, OverflowError):
            return None

    def _start_date(self, seconds: int) -> date:
        """Today by the clock in the server's zone; yesterday if the line is far ahead."""
        now = datetime.fromtimestamp(self._clock(), self.converter.zone)
        now_seconds = now.hour * 3600 + now.minute * 60 + now.second
        if seconds - now_seconds > AHEAD_TOLERANCE:
            return now.date() - timedelta(days=1)
        return now.date()
