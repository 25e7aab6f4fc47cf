"""The live file of a followed path, open: read as it grows, checked for truncation.

Unlike a rolled file (read whole through agent/sources/files.py), the live file grows
while it is read, is never gzip, and can be truncated (copytruncate) or rewritten under
the reader. So it is read through its raw descriptor: ``pread`` of its head to widen a
short file's fingerprint and to spot a rewrite, ``fstat`` for its size and identity
(``st_dev``, ``st_ino``), which the follower compares with the path's to notice a rotation.

Where reading starts when the path is opened is a :class:`LiveStart`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from agent.model import Entry
from agent.parse.fingerprint import FINGERPRINT_BYTES, fingerprint
from agent.parse.reader import EntryReader

CHUNK_BYTES = 64 * 1024
TAIL_SCAN_BYTES = 64 * 1024  # how far back "end" looks for the last complete line

NewReader = Callable[[int, str], EntryReader]  # (start offset, fingerprint) -> a fresh reader
Deliver = Callable[[str, list[Entry], int], None]  # fingerprint, entries, checkpoint offset


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
    ) -> None:
        """Read ``fd`` (a regular file) from ``offset``; :meth:`close` closes it.

        Raises OSError with ``fd`` left open (the caller closes it) if it cannot be read.
        """
        stat = os.fstat(fd)
        self.path = path
        self.ident = (stat.st_dev, stat.st_ino)  # compared with the path's to spot rotation
        self._fd = fd
        self._new_reader = new_reader
        self._deliver_to = deliver
        self._clock = clock
        self._restart(offset)

    def read(self, budget: int) -> bool:
        """Read up to ``budget`` bytes into the reader; True if the end was reached."""
        while budget > 0:
            data = os.read(self._fd, min(CHUNK_BYTES, budget))
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

    def _restart(self, offset: int) -> None:
        """Read from ``offset`` with a fresh reader (at opening, and after a truncation)."""
        os.lseek(self._fd, offset, os.SEEK_SET)
        self.pos = offset  # offset of the next byte to read
        # The first bytes the fingerprint covers, compared to spot rewrites; the
        # fingerprint is None until the file has a first byte.
        self.head = os.pread(self._fd, FINGERPRINT_BYTES, 0)
        self.fingerprint = fingerprint(self.head) if self.head else None
        self.reader = self._new_reader(offset, self.fingerprint or "")
        self.last_data = self._clock()
        self.flush_checked = float("-inf")  # when flush_idle last ran

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
            assert self.fingerprint is not None  # entries need bytes, bytes give a fingerprint
            self._deliver_to(self.fingerprint, entries, self.reader.committed_offset)
