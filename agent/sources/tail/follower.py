"""One server's stream: rolled files the agent missed, then the live file, followed.

State machine (one :class:`Follower` per server, driven by :meth:`Follower.step`):

* **catch-up**: a backlog of rolled files (from :func:`agent.sources.tail.plan.locate`) is read,
  each from its offset to its end, and finished (a partial last line is released).
* **live**: ``path`` is opened and read as it grows. After reading to the end the path is
  ``stat``-ed: another inode, or no file, means it was rotated (or deleted). The old file
  is still open, so it is drained to its end and finished *before* switching — no line
  is lost, none is read twice — and its fingerprint is searched among the rolled files,
  so files rolled in between are read too. A file that shrank, or whose head no longer
  matches its fingerprint, was truncated (copytruncate) or rewritten: restart at 0.
* **waiting**: the path is missing or unreadable; one log message per change of state,
  retried on every wake-up (inotify or the polling tick).

Entries go to the sink with the checkpoint they complete (the end of the last entry);
this class never stores a checkpoint itself.
"""

from __future__ import annotations

import logging
import os
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from agent import events
from agent.model import Checkpoint, Entry
from agent.parse.fingerprint import FINGERPRINT_BYTES, fingerprint, matches
from agent.parse.reader import EntryReader, ServerContext
from agent.sources.tail.discovery import line_start_near_end, open_rotated, read_head
from agent.sources.tail.plan import Found, Resume, Segment, locate
from agent.sources.tail.sink import CheckpointStore, Sink
from agent.sources.tail.source import ReadFrom, ServerSource

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024


@dataclass(slots=True)
class LiveStart:
    """How the next opening of the live path positions itself.

    ``offset`` None: a never-seen file on first install (``read_from`` decides).
    ``expect``: the fingerprint the file must still have for ``offset`` to apply.
    """

    offset: int | None = 0
    expect: str | None = None


@dataclass(slots=True)
class Cursor:
    """An open stream being read, with the reader of its entries."""

    path: Path
    stream: BinaryIO
    reader: EntryReader
    fingerprint: str | None  # None until the (live) file has a first byte
    pos: int  # stream offset of the next byte to read
    final: bool  # a rolled file: read to its end, then finish
    head: bytes = b""  # the first bytes the fingerprint covers (compared to spot rewrites)
    ident: tuple[int, int] | None = None  # (st_dev, st_ino) of the live file
    last_data: float = 0.0
    flush_checked: float = float("-inf")  # when flush_idle last ran


class Follower:
    """Follows one server's log; see the module docstring for the states."""

    def __init__(
        self,
        source: ServerSource,
        sink: Sink,
        store: CheckpointStore,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self._sink = sink
        self._store = store
        self._clock = clock
        self._backlog: deque[Segment] = deque()
        self._live_start = LiveStart()
        self._cursor: Cursor | None = None
        self._waiting: str | None = None
        self._context = ServerContext()  # one per server: UUIDs learnt in one file enrich the next
        self.unreadable_files = 0  # rolled files skipped because they could not be read

    @property
    def directory(self) -> Path:
        """The directory holding the followed file (what the watcher watches)."""
        return self.source.path.parent

    def start(self) -> None:
        """Decide where to begin: the saved checkpoint if any, else ``read_from``."""
        saved = self._store.checkpoint(self.source.server_id)
        if saved is None:
            self._live_start = LiveStart(offset=None)
            return
        self._apply(locate(saved, self.source.path, include_live=True), saved)

    def close(self) -> None:
        """Close the open stream (uncommitted lines are read again next time)."""
        if self._cursor is not None:
            self._cursor.stream.close()
            self._cursor = None

    def flush_deadline(self) -> float | None:
        """When the pending entry must be released by the idle flush (None: nothing due)."""
        cursor = self._cursor
        if cursor is None or cursor.pos <= cursor.reader.committed_offset:
            return None
        deadline = cursor.last_data + cursor.reader.options.idle_flush_seconds
        # Already flushed at or after the deadline: what is left is a partial line, which
        # waits for its newline (no busy loop on it).
        return None if deadline <= cursor.flush_checked else deadline

    def step(self, budget: int = 16 * CHUNK_BYTES) -> bool:
        """Do one bounded slice of work; True if more is ready right away."""
        if self._cursor is None and not self._open_next():
            return bool(self._backlog)
        cursor = self._cursor
        assert cursor is not None
        try:
            if not cursor.final and self._shrank_or_rewritten(cursor):
                cursor = self._truncated(cursor)
            at_end = self._read(cursor, budget)
        except (OSError, EOFError, zlib.error) as exc:
            self._read_failed(cursor, exc)
            return True
        if cursor.final:
            if at_end:
                self._finish(cursor)
            return True
        if at_end:
            self._check_live(cursor)
        cursor.flush_checked = self._clock()
        self._deliver(cursor, cursor.reader.flush_idle(cursor.flush_checked))
        return not at_end or self._cursor is not cursor

    # -- opening ----------------------------------------------------------------------

    def _apply(self, resume: Resume, saved: Checkpoint) -> None:
        path = self.source.path
        if resume.found is Found.LIVE:
            self._live_start = LiveStart(resume.live_offset, saved.fingerprint)
            return
        self._live_start = LiveStart(0)
        self._backlog.extend(resume.backlog)
        if resume.found is Found.ROTATED:
            names = ", ".join(seg.rotated.path.name for seg in resume.backlog)
            log.info(
                "%s: %s: checkpoint found in rolled file; reading %s, then %s",
                events.FILE_RESUMED,
                self.source.server_id,
                names,
                path,
            )
        elif resume.found is Found.TRUNCATED:
            log.warning(
                "%s: %s: %s is shorter than the saved offset %d; reading it from 0",
                events.FILE_TRUNCATED,
                self.source.server_id,
                path,
                saved.offset,
            )
        else:
            log.warning(
                "%s: %s: the file of the saved checkpoint (offset %d) is gone; its unread "
                "rest cannot be read; reading %s from 0",
                events.FILE_LOST,
                self.source.server_id,
                saved.offset,
                path,
            )

    def _open_next(self) -> bool:
        while self._backlog:
            if self._open_rotated(self._backlog.popleft()):
                return True
        return self._open_live()

    def _open_rotated(self, segment: Segment) -> bool:
        rotated = segment.rotated
        head = read_head(rotated, FINGERPRINT_BYTES)
        try:
            if not head:
                raise OSError("empty or unreadable")
            stream = open_rotated(rotated)
            stream.seek(segment.offset)
            pos = stream.tell()
        except (OSError, EOFError, zlib.error) as exc:
            self.unreadable_files += 1
            log.error(
                "%s: %s: cannot read rolled file %s (%s); skipped",
                events.FILE_UNREADABLE,
                self.source.server_id,
                rotated.path,
                exc,
            )
            return False
        log.info(
            "%s: %s: reading rolled file %s from offset %d",
            events.FILE_CATCHUP,
            self.source.server_id,
            rotated.path,
            pos,
        )
        self._cursor = self._new_cursor(
            rotated.path, stream, head, pos, final=True, day=rotated.day
        )
        return True

    def _open_live(self) -> bool:
        path = self.source.path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return self._wait(events.FILE_MISSING, f"{path} does not exist (yet)")
        except OSError as exc:
            return self._wait(events.FILE_UNREADABLE, f"cannot open {path}: {exc.strerror}")
        try:
            return self._position_live(fd)
        except OSError as exc:
            os.close(fd)
            return self._wait(events.FILE_UNREADABLE, f"cannot read {path}: {exc.strerror}")

    def _position_live(self, fd: int) -> bool:
        path, start = self.source.path, self._live_start
        stat = os.fstat(fd)
        if not S_ISREG(stat.st_mode):
            os.close(fd)
            return self._wait(events.FILE_UNREADABLE, f"{path} is not a regular file")
        head = os.pread(fd, FINGERPRINT_BYTES, 0)
        if start.expect is not None and not matches(start.expect, head):
            # Rotated between the start-up check and now: look for it among rolled files.
            os.close(fd)
            saved = Checkpoint(self.source.server_id, start.expect, start.offset or 0)
            self._apply(locate(saved, path, include_live=False), saved)
            return self._open_next()
        if start.offset is None:
            begin = self.source.read_from is ReadFrom.BEGINNING
            offset = 0 if begin else line_start_near_end(fd, stat.st_size)
        elif stat.st_size < start.offset:
            log.warning(
                "%s: %s: %s is shorter than the saved offset; reading it from 0",
                events.FILE_TRUNCATED,
                self.source.server_id,
                path,
            )
            offset = 0
        else:
            offset = start.offset
        self._live_start = LiveStart(0)  # any later file appeared while running
        if self._waiting is not None:
            log.info("%s: %s: %s is readable", events.FILE_FOUND, self.source.server_id, path)
            self._waiting = None
        stream = os.fdopen(fd, "rb", buffering=0)
        stream.seek(offset)
        cursor = self._new_cursor(path, stream, head, offset)
        cursor.ident = (stat.st_dev, stat.st_ino)
        self._cursor = cursor
        log.info(
            "%s: %s: following %s from offset %d",
            events.FILE_OPENED,
            self.source.server_id,
            path,
            offset,
        )
        return True

    def _new_cursor(
        self,
        path: Path,
        stream: BinaryIO,
        head: bytes,
        pos: int,
        *,
        final: bool = False,
        day: date | None = None,
    ) -> Cursor:
        """A cursor with a fresh reader; ``day`` is a rolled file's date (its name)."""
        head = head[:FINGERPRINT_BYTES]
        print_ = fingerprint(head) if head else None
        reader = EntryReader(
            server_id=self.source.server_id,
            fingerprint=print_ or "",
            start_offset=pos,
            options=self.source.options,
            date_hint=day,
            context=self._context,
        )
        return Cursor(path, stream, reader, print_, pos, final, head, last_data=self._clock())

    def _wait(self, state: str, detail: str) -> bool:
        if state == events.FILE_MISSING and self._live_start.offset is None:
            self._live_start = LiveStart(0)  # it will appear while the agent runs
        if self._waiting != state:
            log.warning("%s: %s: %s; waiting for it", state, self.source.server_id, detail)
            self._waiting = state
        return False

    # -- reading ----------------------------------------------------------------------

    def _read(self, cursor: Cursor, budget: int) -> bool:
        """Read up to ``budget`` bytes into the reader; True if the end was reached."""
        while budget > 0:
            data = cursor.stream.read(min(CHUNK_BYTES, budget))
            if not data:
                return True
            cursor.pos += len(data)
            budget -= len(data)
            now = self._clock()
            cursor.last_data = now
            if not cursor.final:
                self._upgrade_fingerprint(cursor)
            self._deliver(cursor, cursor.reader.feed(data, now))
        return False

    def _upgrade_fingerprint(self, cursor: Cursor) -> None:
        """Widen a short file's fingerprint as it grows (see agent/parse/fingerprint.py)."""
        wanted = min(cursor.pos, FINGERPRINT_BYTES)
        if wanted <= len(cursor.head):
            return
        head = os.pread(cursor.stream.fileno(), wanted, 0)
        if len(head) > len(cursor.head):
            cursor.head = head
            cursor.fingerprint = fingerprint(head)
            cursor.reader.fingerprint = cursor.fingerprint

    def _deliver(self, cursor: Cursor, entries: list[Entry]) -> None:
        if not entries:
            return
        assert cursor.fingerprint is not None  # entries need bytes, bytes give a fingerprint
        for entry in entries:
            entry.fingerprint = cursor.fingerprint
        checkpoint = Checkpoint(
            self.source.server_id, cursor.fingerprint, cursor.reader.committed_offset
        )
        self._sink.deliver(entries, checkpoint)

    def _finish(self, cursor: Cursor) -> None:
        """End of a finished file: release everything and close it."""
        self._deliver(cursor, cursor.reader.finish())
        cursor.stream.close()
        self._cursor = None

    def _read_failed(self, cursor: Cursor, exc: BaseException) -> None:
        """A read error: drop the stream; it is found again by fingerprint on reopen."""
        cursor.stream.close()
        self._cursor = None
        detail = f"reading {cursor.path} failed at offset {cursor.pos} ({exc})"
        if cursor.final:
            self.unreadable_files += 1
            log.error("%s: %s: %s", events.FILE_UNREADABLE, self.source.server_id, detail)
            self._deliver(cursor, cursor.reader.finish())
            return
        self._wait(events.FILE_UNREADABLE, detail)  # logged once, however often it recurs
        if cursor.fingerprint is not None:
            saved = Checkpoint(
                self.source.server_id, cursor.fingerprint, cursor.reader.committed_offset
            )
            self._apply(locate(saved, self.source.path, include_live=True), saved)

    # -- the live file ------------------------------------------------------------------

    def _check_live(self, cursor: Cursor) -> None:
        """At the end of the live file: does the path still name it?"""
        try:
            now_at_path = self.source.path.stat()
            ident: tuple[int, int] | None = (now_at_path.st_dev, now_at_path.st_ino)
        except OSError:
            ident = None
        if ident != cursor.ident:
            self._rotated(cursor, ident is None)

    def _rotated(self, cursor: Cursor, gone: bool) -> None:
        while not self._read(cursor, CHUNK_BYTES * 16):
            pass  # drain: the writer closed the file before renaming it
        finished = cursor.fingerprint
        end = cursor.pos
        self._finish(cursor)
        log.info(
            "%s: %s: %s was %s after %d bytes; old file finished",
            events.FILE_ROTATED,
            self.source.server_id,
            cursor.path,
            "removed" if gone else "replaced",
            end,
        )
        self._live_start = LiveStart(0)
        if finished is not None:
            saved = Checkpoint(self.source.server_id, finished, end)
            resume = locate(saved, self.source.path, include_live=False)
            if resume.found is Found.ROTATED:
                # The first segment is the file just finished (from its end): skip it.
                self._backlog.extend(resume.backlog[1:])

    def _shrank_or_rewritten(self, cursor: Cursor) -> bool:
        fd = cursor.stream.fileno()
        if os.fstat(fd).st_size < cursor.pos:
            return True
        # Comparing the bytes, not their hash: this runs on every wake-up.
        return bool(cursor.head) and os.pread(fd, len(cursor.head), 0) != cursor.head

    def _truncated(self, cursor: Cursor) -> Cursor:
        self._deliver(cursor, cursor.reader.finish())
        log.warning(
            "%s: %s: %s shrank or was rewritten after %d bytes; reading it from 0",
            events.FILE_TRUNCATED,
            self.source.server_id,
            cursor.path,
            cursor.pos,
        )
        cursor.stream.seek(0)
        head = os.pread(cursor.stream.fileno(), FINGERPRINT_BYTES, 0)
        fresh = self._new_cursor(cursor.path, cursor.stream, head, 0)
        fresh.ident = cursor.ident
        self._cursor = fresh
        return fresh
