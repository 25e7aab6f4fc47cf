"""Catching up: the rolled files to read before the live file, one bounded slice at a time.

The backlog comes from :func:`agent.sources.tail.plan.locate` (at start, after a rotation
while running, or when the live file was not the checkpoint's). Each file is read from
its offset to its end through the one whole-file reader (agent/sources/files.py) and
finished: its partial last line is released, since nothing will be appended to it. A
file that cannot be read is skipped loudly (logged, counted), never retried: the files
after it are still read. A ``.gz`` cut short (its stream ends mid-way) is read up to the
cut, its entries delivered with their checkpoints, and it is logged (``file.cut_short``)
and counted apart; an empty rolled file has nothing to read (``file.empty``, counted).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from agent import events
from agent.model import Entry
from agent.parse.reader import EntryReader
from agent.sources.files import EntryFeed, ReadError
from agent.sources.tail.discovery import open_rotated
from agent.sources.tail.plan import Segment

log = logging.getLogger(__name__)

NewReader = Callable[[int, str, date | None], EntryReader]  # (start, fingerprint, day)
Deliver = Callable[[str, list[Entry], int], None]  # fingerprint, entries, checkpoint offset


class CatchUp:
    """The rolled files one server still has to read, and the one being read."""

    def __init__(
        self,
        server_id: str,
        *,
        new_reader: NewReader,
        deliver: Deliver,
        clock: Callable[[], float],
    ) -> None:
        self._server_id = server_id
        self._new_reader = new_reader
        self._deliver = deliver
        self._clock = clock
        self._backlog: deque[Segment] = deque()
        self._path: Path | None = None  # the file being read (for the logs)
        self._feed: EntryFeed | None = None
        self.unreadable_files = 0  # rolled files skipped because they could not be read
        self.cut_short_files = 0  # .gz files read up to where their stream was cut
        self.empty_files = 0  # rolled files without a byte

    @property
    def reading(self) -> bool:
        """True while a rolled file is open."""
        return self._feed is not None

    @property
    def waiting(self) -> bool:
        """True if rolled files are queued (not yet opened)."""
        return bool(self._backlog)

    def extend(self, segments: Iterable[Segment]) -> None:
        """Queue rolled files, oldest first, after those already queued."""
        self._backlog.extend(segments)

    def open_next(self) -> bool:
        """Open the next readable queued file; False when none is left."""
        while self._backlog:
            if self._open(self._backlog.popleft()):
                return True
        return False

    def step(self, budget: int) -> None:
        """Read one slice of the open file; at its end (or on an error) close it."""
        assert self._feed is not None
        try:
            if self._feed.step(budget):
                return
        except ReadError as exc:
            if exc.cut_short:
                self._cut_short(exc.offset)
                self.close()
                return
            self.unreadable_files += 1
            log.error(
                "%s: %s: reading %s failed at offset %d (%s)",
                events.FILE_UNREADABLE,
                self._server_id,
                self._path,
                exc.offset,
                exc.cause,
            )
        self.close()

    def close(self) -> None:
        """Close the open file, if any (what it did not commit is read again next time)."""
        if self._feed is not None:
            self._feed.stream.close()
            self._feed = self._path = None

    def _open(self, segment: Segment) -> bool:
        rotated = segment.rotated
        try:
            stream = open_rotated(rotated)
        except (OSError, ReadError) as exc:
            return self._skip(rotated.path, exc)
        if not stream.head:
            cut = stream.cut is not None
            stream.close()
            if cut:
                self._path = rotated.path
                self._cut_short(0)
                self._path = None
                return False
            self.empty_files += 1
            log.info(
                "%s: %s: rolled file %s is empty; nothing to read",
                events.FILE_EMPTY,
                self._server_id,
                rotated.path,
            )
            return False
        log.info(
            "%s: %s: reading rolled file %s from offset %d",
            events.FILE_CATCHUP,
            self._server_id,
            rotated.path,
            segment.offset,
        )
        print_ = stream.fingerprint
        reader = self._new_reader(segment.offset, print_, rotated.day)

        def deliver(entries: list[Entry], offset: int) -> None:
            self._deliver(print_, entries, offset)

        self._path = rotated.path
        self._feed = EntryFeed(stream, reader, deliver, clock=self._clock)
        return True

    def _cut_short(self, offset: int) -> None:
        self.cut_short_files += 1
        log.warning(
            "%s: %s: %s ends mid-stream (a gzip file cut short); read up to offset %d, "
            "what followed is not in the file",
            events.FILE_CUT_SHORT,
            self._server_id,
            self._path,
            offset,
        )

    def _skip(self, path: Path, why: object) -> bool:
        self.unreadable_files += 1
        log.error(
            "%s: %s: cannot read rolled file %s (%s); skipped",
            events.FILE_UNREADABLE,
            self._server_id,
            path,
            why,
        )
        return False
