"""One source stream's bytes in, complete entries out: lines -> headers -> entries.

One :class:`EntryReader` per source file. The caller feeds the bytes it reads from
``start_offset`` on and gets back complete entries only; ``committed_offset`` is always
the end of the last entry returned, which is the checkpoint those entries complete
(shared/DESIGN.md, invariant 2): a pending entry, or a partial last line, is never part
of it. Stages: :class:`~agent.parse.lines.LineSplitter` (bytes -> lines), the Minecraft parser
(prefix and message), :class:`~agent.parse.multiline.MultilineAssembler` (continuations),
:class:`~agent.parse.dates.DateTracker` (date and UTC), and the per-server
:class:`ServerContext` (what one file teaches about the next: players' UUIDs).

Wiring: give the readers of one server the same ``context``; give a rotated file the
``date_hint`` its name carries (:func:`agent.sources.logfiles.date_of`), a file read after
the fact the one its mtime gives (:func:`agent.parse.dates.start_date_from_end`); a live
``latest.log`` takes its date from ``clock``, from ``clock_from`` on when the bytes before
that offset were written before it was opened (the daemon catching up). A continuation
line that arrives after its entry was released by :meth:`EntryReader.flush_idle` starts
an entry of its own (without a header): it is sent, not lost, only not joined.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from agent.model import Decoding, Entry, Tag
from agent.parse.dates import Clock, DateTracker, LocalToUtc, host_timezone
from agent.parse.lines import DEFAULT_MAX_LINE_BYTES, LineSplitter, LineStats
from agent.parse.minecraft import Event, classify, parse_header
from agent.parse.minecraft.online import judge
from agent.parse.minecraft.players import Roster
from agent.parse.multiline import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_LINES,
    Assembled,
    MultilineAssembler,
)
from agent.parse.patterns import Patterns

DEFAULT_MAX_PLAYERS = 10_000
_TIMESTAMP = Tag.TIMESTAMP.value
_UNKNOWN = Tag.UNKNOWN.value
_DECODING_RANK = {Decoding.UTF8: 0, Decoding.FALLBACK: 1, Decoding.REPLACED: 2}


@dataclass(slots=True, frozen=True)
class ReaderOptions:
    """How a source is read (parsed once from the config, at the edge)."""

    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    fallback_encoding: str | None = None
    idle_flush_seconds: float = 1.0  # a pending entry is released after this long idle
    multiline_max_lines: int = DEFAULT_MAX_LINES
    multiline_max_bytes: int = DEFAULT_MAX_BYTES
    timezone: tzinfo | None = None  # the server's zone; None: the host's
    detect_encoding: bool = False  # no fallback_encoding set: guess one per file (lines.py)
    patterns: Patterns | None = None  # [[servers.patterns]], tried before the built-ins


@lru_cache(maxsize=1)
def _host_zone() -> tzinfo:
    return host_timezone()


@dataclass(slots=True)
class ServerContext:
    """State shared by the readers of one server's files: the players' UUIDs, who is online.

    ``UUID of player X is ...`` appears once per login; later lines about X carry only
    the name. The map is bounded (least recently seen players are forgotten first).

    ``roster`` (:class:`~agent.parse.minecraft.players.Roster`) is who is online.

    Persistence (the daemon keeps it with the checkpoint, across restarts):
    :meth:`snapshot` is a JSON-able dict with one key per component (``"uuids"``: name
    -> uuid, least recently seen first; ``"roster"``: :meth:`Roster.snapshot`),
    :meth:`restore` takes it back (unknown keys and malformed components are ignored:
    that component stays as it was). The context changes only in
    :meth:`EntryReader._build`, i.e. for entries returned to the caller, never for the
    pending one, so a snapshot taken when entries are handed on is the context at their
    checkpoint. Every change moves ``version``, so the caller serializes only when it
    moved (the hot path compares two ints).
    """

    max_players: int = DEFAULT_MAX_PLAYERS
    _uuids: OrderedDict[str, str] = field(default_factory=OrderedDict)
    roster: Roster = field(default_factory=Roster)
    _uuid_changes: int = 0  # incremented by every change of the UUID map

    @property
    def version(self) -> int:
        """Moves whenever the state changes (the UUID map or the roster)."""
        return self._uuid_changes + self.roster.changes

    def snapshot(self) -> dict[str, Any]:
        """The state as a JSON-able dict, one key per component."""
        return {"uuids": dict(self._uuids), "roster": self.roster.snapshot()}

    def restore(self, snapshot: dict[str, Any]) -> int:
        """Take back a :meth:`snapshot` (a component absent or malformed stays as it was);
        returns how many roster entries were skipped as malformed."""
        uuids = snapshot.get("uuids")
        if isinstance(uuids, dict):
            pairs = [(k, v) for k, v in uuids.items() if isinstance(k, str) and isinstance(v, str)]
            self._uuids = OrderedDict(pairs[-self.max_players :] if self.max_players else [])
        self._uuid_changes += 1
        roster = snapshot.get("roster")
        return self.roster.restore(roster) if isinstance(roster, dict) else 0

    def observe(
        self,
        event: Event,
        text: str,
        thread: str | None,
        timestamp: datetime | None,
        logger: str | None = None,
    ) -> Event:
        """The event of a line once the roster has judged it (and learnt from it)."""
        return judge(self.roster, event, text, thread, timestamp, logger)

    def enrich(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Learn ``username -> uuid`` from fields that hold both; add a known uuid to others."""
        username = fields.get("username")
        if not isinstance(username, str):
            return fields
        uuid = fields.get("uuid")
        uuids = self._uuids
        if isinstance(uuid, str):
            self._uuid_changes += 1
            uuids[username] = uuid
            uuids.move_to_end(username)
            if len(uuids) > self.max_players:
                uuids.popitem(last=False)
            return fields
        known = uuids.get(username)
        if known is None:
            return fields
        return {**fields, "uuid": known}


class EntryReader:
    """Incremental reader of one source stream."""

    def __init__(
        self,
        *,
        server_id: str,
        fingerprint: str,
        start_offset: int = 0,
        options: ReaderOptions | None = None,
        date_hint: date | None = None,
        clock: Clock = time.time,
        context: ServerContext | None = None,
        clock_from: int | None = None,
    ) -> None:
        self.options = options or ReaderOptions()
        self.server_id = server_id
        self.fingerprint = fingerprint
        self.context = context if context is not None else ServerContext()
        self._splitter = LineSplitter(
            start_offset=start_offset,
            max_line_bytes=self.options.max_line_bytes,
            fallback_encoding=self.options.fallback_encoding,
            detect_encoding=self.options.detect_encoding,
        )
        self._assembler = MultilineAssembler(
            max_lines=self.options.multiline_max_lines,
            max_bytes=self.options.multiline_max_bytes,
        )
        zone = self.options.timezone or _host_zone()
        self._dates = DateTracker(LocalToUtc(zone), date_hint=date_hint, clock=clock)
        self._committed = start_offset
        self._pending_since = 0.0
        self._clock_from = clock_from  # entries from this offset on are dated by the clock
        patterns = self.options.patterns  # none configured: the built-ins, nothing added
        self._classify = classify if patterns is None else patterns.before(classify)

    @property
    def committed_offset(self) -> int:
        """End of the last entry returned: the checkpoint offset."""
        return self._committed

    @property
    def stats(self) -> LineStats:
        """The line splitter's counters (lines, truncated, fallback-decoded, replaced)."""
        return self._splitter.stats

    def prime_encoding(self, data: bytes) -> None:
        """Bytes of this stream, already written, for the encoding guess (lines.py)."""
        self._splitter.prime(data)

    def feed(self, data: bytes, now: float = 0.0) -> list[Entry]:
        """Add bytes; return the entries completed by them (the last one may stay pending)."""
        lines = self._splitter.feed(data)
        if not lines:
            return []
        entries: list[Entry] = []
        add = self._assembler.add
        build = self._build
        for line in lines:
            released = add(line, parse_header(line.text))
            if released is not None:
                entries.append(build(released))
        self._pending_since = now
        return entries

    def flush_idle(self, now: float) -> list[Entry]:
        """Release the pending entry if no line was added for ``idle_flush_seconds``."""
        if (
            self._assembler.has_pending
            and now - self._pending_since >= self.options.idle_flush_seconds
        ):
            return self._flush()
        return []

    def finish(self) -> list[Entry]:
        """End of a finished stream: release everything, a partial last line included."""
        entries = [
            self._build(released)
            for line in self._splitter.finish()
            if (released := self._assembler.add(line, parse_header(line.text))) is not None
        ]
        return entries + self._flush()

    def _flush(self) -> list[Entry]:
        released = self._assembler.flush()
        return [] if released is None else [self._build(released)]

    def _build(self, assembled: Assembled) -> Entry:
        """Turn an assembled entry into an :class:`Entry` (tags, fields, UTC timestamp)."""
        header = assembled.header
        first = assembled.first
        if self._clock_from is not None and first.offset >= self._clock_from:
            self._clock_from = None
            self._dates.use_clock()  # the lines written after the file was opened: live
        if header is not None:
            message = header.message
            level = header.level
            timestamp = None
            if header.time is not None:
                timestamp = self._dates.resolve(header.date, header.time)
            thread, logger = header.thread, header.logger
            event = self._classify(message, level)
            event = self.context.observe(event, message, thread, timestamp, logger)
            tags = event.tags if timestamp is None else [_TIMESTAMP, *event.tags]
        elif assembled.binary:
            message = first.text
            level = thread = logger = timestamp = None
            event, tags = None, [_UNKNOWN]  # junk: nothing in it is a player's or a server's
        else:
            message = first.text
            level = thread = logger = timestamp = None
            event = self._classify(message, None)  # not a line the roster judges: no prefix
            tags = event.tags
        fields = event.fields if event is not None else {}
        if fields:
            fields = self.context.enrich(fields)
        more = assembled.more_lines
        if more is None:
            end, raw, truncated, decoding = first.end, first.text, first.truncated, first.decoding
            control_chars = first.control_chars
        else:
            lines = [first, *more]
            end = more[-1].end
            message = "\n".join([message, *assembled.more_messages])  # type: ignore[misc]
            raw = "\n".join([line.text for line in lines])
            truncated = any(line.truncated for line in lines)
            decoding = max((line.decoding for line in lines), key=_DECODING_RANK.__getitem__)
            control_chars = sum(line.control_chars for line in lines)
        self._committed = end
        return Entry(
            self.server_id,
            self.fingerprint,
            first.offset,
            end,
            message,
            raw,
            timestamp,
            level,
            thread,
            logger,
            tags,
            fields,
            truncated or assembled.truncated,
            decoding,
            control_chars,
            assembled.binary,
        )
