"""The live file of a followed path, open: read as it grows, checked for truncation.

Unlike a rolled file (read whole through agent/sources/files.py), the live file grows
while it is read, is never gzip, and can be truncated (copytruncate) or rewritten under
the reader. So it is read through its raw descriptor: ``pread`` of its head to widen a
short file's fingerprint and to spot a rewrite, ``fstat`` for its size and identity
(``st_dev``, ``st_ino``), which the follower compares with the path's to notice a rotation.

Where reading starts when the path is opened is a :class:`LiveStart`. The bytes already in
the file when it is opened (the daemon catching up after downtime) were written before:
they are dated from the file's mtime, counting back (agent/sources/files.py
:func:`~agent.sources.files.start_date_of`); only what is appended later uses the clock.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, tzinfo
from enum import Enum
from pathlib import Path

from agent import events
from agent.model import Entry
from agent.parse.encoding import SAMPLE_BYTES
from agent.parse.fingerprint import FINGERPRINT_BYTES, fingerprint
from agent.parse.reader import EntryReader
from agent.sources.files import start_date_of

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
TAIL_SCAN_BYTES = 64 * 1024  # how far back "end" looks for the last complete line

# (start offset, fingerprint, date of the first line, offset from which the clock dates)
NewReader = Callable[[int, str, date | None, int | None], EntryReader]
# fingerprint, entries, checkpoint offset, the narrower fingerprint it replaces (if any)
Deliver = Callable[[str, list[Entry], int, str | None], None]


class StartAt(Enum):
    """How the next opening of the live path positions itself."""

    READ_FROM = "read_from"  # first install, a never-seen file: ServerSource.read_from decides
    SAVED = "saved"  # the saved offset, if the file still has the saved fingerprint
    BEGINNING = "beginning"  # a file that appeared while the agent knew the server: offset 0


@dataclass(frozen=True, slots=True)
class LiveStart:
    """Where to start in the live file; ``offset`` and ``expect`` are SAVED's checkpoint."""

    at: StartAt = StartAt.BEGINNING
    offset: int = 0
    expect: str = ""


def line_start_near_end(fd: int, size: int) -> int:
    """Offset after the last ``\\n`` before ``size`` (where "read from end" starts).

    Starting there means a partial last line is read once it completes. If no newline is
    found in the last TAIL_SCAN_BYTES, reading starts at ``size`` (that line's head is
    skipped: an unbounded backwards scan of a 2 GB file is worse).
    """
    start = max(0, size - TAIL_SCAN_BYTES)
    tail = os.pread(fd, size - start, start)
    newline = tail.rfind(b"\n")
    if newline >= 0:
        return start + newline + 1
    return 0 if start == 0 else size


class LiveFile:
    """The followed path's file, open at ``pos``, with the reader of its entries.

    Entries go to ``deliver`` with the fingerprint and the checkpoint they complete.
    Every method may raise OSError (the follower treats it as the file being unreadable).
    """

    def __init__(
        self,
        path: Path,
        fd: int,
        offset: int,
        *,
        new_reader: NewReader,
        deliver: Deliver,
        clock: Callable[[], float],
        zone: tzinfo | None = None,
    ) -> None:
        """Read ``fd`` (a regular file) from ``offset``; :meth:`close` closes it. With
        ``zone`` (the server's), the bytes already there are dated from the mtime.

        Raises OSError with ``fd`` left open (the caller closes it) if it cannot be read.
        """
        stat = os.fstat(fd)
        self.path = path
        self.ident = (stat.st_dev, stat.st_ino)  # compared with the path's to spot rotation
        self._fd = fd
        self._new_reader = new_reader
        self._deliver_to = deliver
        self._clock = clock
        self._restart(offset, zone)

    def read(self, budget: int) -> bool:
        """Read up to ``budget`` bytes into the reader; True if the end was reached."""
        while budget > 0:
            data = os.read(self._fd, min(CHUNK_BYTES, budget))
            if data and log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s: read %d bytes of %s at offset %d",
                    events.FILE_READ,
                    len(data),
                    self.path,
                    self.pos,
                )
            if not data:
                return True
            self.pos += len(data)
            budget -= len(data)
            now = self._clock()
            self.last_data = now
            self._upgrade_fingerprint()
            self._deliver(self.reader.feed(data, now))
        return False

    def drain(self) -> None:
        """Read to the end (the writer closed the file before renaming it)."""
        while not self.read(16 * CHUNK_BYTES):
            pass

    def flush_idle(self) -> None:
        """Release the pending entry if no line came for the idle-flush time."""
        self.flush_checked = self._clock()
        self._deliver(self.reader.flush_idle(self.flush_checked))

    def flush_deadline(self) -> float | None:
        """When the pending entry must be released by the idle flush (None: nothing due)."""
        if self.pos <= self.reader.committed_offset:
            return None
        deadline = self.last_data + self.reader.options.idle_flush_seconds
        # Already flushed at or after the deadline: what is left is a partial line, which
        # waits for its newline (no busy loop on it).
        return None if deadline <= self.flush_checked else deadline

    def unread_bytes(self) -> int:
        """Bytes of the file after the read position (the server's lag, for metrics)."""
        return max(0, os.fstat(self._fd).st_size - self.pos)

    def shrank_or_rewritten(self) -> bool:
        """True if the file is now shorter than what was read, or its head changed."""
        if os.fstat(self._fd).st_size < self.pos:
            return True
        # Comparing the bytes, not their hash: this runs on every wake-up.
        return bool(self.head) and os.pread(self._fd, len(self.head), 0) != self.head

    def restart_at_zero(self) -> None:
        """After a truncation or rewrite: release what is pending, read again from 0."""
        self._deliver(self.reader.finish())
        self._restart(0)

    def finish(self) -> None:
        """The file is finished (rotated away): release everything and close it."""
        self._deliver(self.reader.finish())
        self.close()

    def close(self) -> None:
        """Close the file (uncommitted lines are read again next time); closing twice is fine."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def _restart(self, offset: int, zone: tzinfo | None = None) -> None:
        """Read from ``offset`` with a fresh reader (at opening, and after a truncation)."""
        stat = os.fstat(self._fd)
        day, clock_from = None, None
        if zone is not None and stat.st_size > offset:  # written while the agent was away
            day = start_date_of(self._chunks(offset, stat.st_size), stat.st_mtime, zone)
            clock_from = stat.st_size
        os.lseek(self._fd, offset, os.SEEK_SET)
        log.debug(
            "%s: opened %s at offset %d of %d bytes%s",
            events.FILE_READ,
            self.path,
            offset,
            stat.st_size,
            f" (first line dated {day} from the mtime)" if day else "",
        )
        self.pos = offset  # offset of the next byte to read
        # The first bytes the fingerprint covers, compared to spot rewrites; the
        # fingerprint is None until the file has a first byte.
        self.head = os.pread(self._fd, FINGERPRINT_BYTES, 0)
        self.fingerprint = fingerprint(self.head) if self.head else None
        # The fingerprint of the last checkpoint handed on since this (re)start: a later,
        # wider one of the same stream replaces its row. Not across a restart: after a
        # truncation the old row may be a rotated copy's (copytruncate).
        self._delivered_print: str | None = None
        self.reader = self._new_reader(offset, self.fingerprint or "", day, clock_from)
        if self.reader.options.detect_encoding and stat.st_size:
            # A line that arrives alone is a poor sample: the file's content around the
            # start offset joins it (agent/parse/encoding.py).
            begin = max(0, offset - SAMPLE_BYTES)
            self.reader.prime_encoding(os.pread(self._fd, 2 * SAMPLE_BYTES, begin))
        self.last_data = self._clock()
        self.flush_checked = float("-inf")  # when flush_idle last ran

    def _chunks(self, start: int, end: int) -> Iterator[bytes]:
        """The file's bytes from ``start`` to ``end``, in chunks (without moving ``pos``)."""
        while start < end:
            chunk = os.pread(self._fd, min(CHUNK_BYTES * 16, end - start), start)
            if not chunk:
                return
            start += len(chunk)
            yield chunk

    def _upgrade_fingerprint(self) -> None:
        """Widen a short file's fingerprint as it grows (see agent/parse/fingerprint.py)."""
        wanted = min(self.pos, FINGERPRINT_BYTES)
        if wanted <= len(self.head):
            return
        head = os.pread(self._fd, wanted, 0)
        if len(head) > len(self.head):
            self.head = head
            self.fingerprint = fingerprint(head)
            self.reader.fingerprint = self.fingerprint

    def _deliver(self, entries: list[Entry]) -> None:
        if entries:
            print_ = self.fingerprint
            assert print_ is not None  # entries need bytes, bytes give a fingerprint
            previous, self._delivered_print = self._delivered_print, print_
            replaces = previous if previous != print_ else None  # widened since
            self._deliver_to(print_, entries, self.reader.committed_offset, replaces)
