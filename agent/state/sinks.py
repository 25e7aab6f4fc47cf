"""The sinks the tailer delivers to (the :class:`agent.sources.tail.sink.Sink` protocol).

* :class:`SpoolSink`: normal operation and ``backfill``; entries and their checkpoint go
  into the spool in one transaction (shared/DESIGN.md, invariant 2).
* :class:`PrintSink`: ``run --dry-run``; prints the bodies that would be sent and commits
  nothing. Both encode through the same :class:`EntryEncoder`, so they agree byte for byte.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

from agent.encode.encoder import EntryEncoder
from agent.model import Checkpoint, Entry
from agent.state.spool import Delivery, Record, Spool

BATCH_BYTES = 1024 * 1024  # a batched() delivery commits at least this often
ROOM_POLL_SECONDS = 1.0  # how often a full spool's waiter checks that the uploader still runs


class SpoolSink:
    """Entries encoded and appended to the spool with their checkpoint, in one transaction.

    The one implementation of "encode, spool with the checkpoint, wait for room": the
    daemon's tailer delivers here, and so does ``backfill`` (one sink per file, with
    ``as_latest=False`` when the daemon already has a resume point, so old files do not
    move it; see :meth:`Spool.append`).
    """

    def __init__(self, spool: Spool, encoder: EntryEncoder, *, as_latest: bool = True) -> None:
        self._spool = spool
        self.encoder = encoder
        self._as_latest = as_latest
        self._batch: list[Delivery] | None = None  # inside batched(): not committed yet
        self._batch_bytes = 0

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """Deliveries inside commit together at the end, in one transaction (the tailer's
        wake-up across servers); also every BATCH_BYTES, so memory and the cap stay
        bounded. On an exception nothing more is committed: those lines are read again."""
        self._batch, self._batch_bytes = [], 0
        try:
            yield
            self._commit_batch()
        finally:
            self._batch = None

    def _commit_batch(self) -> None:
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        if batch:
            self._spool.append_batch(batch, as_latest=self._as_latest)

    def deliver(
        self,
        entries: Sequence[Entry],
        checkpoint: Checkpoint,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Spool what passes the filter; the checkpoint moves even if nothing passed.

        ``context`` (the parse context at ``checkpoint``) is stored with it, unless this
        sink does not move the resume point (``as_latest=False``): then it is not the
        resume point's context.
        """
        server_id = checkpoint.server_id  # a delivery holds one server's entries
        records = [
            Record(event_id, server_id, body)
            for event_id, body in self.encoder.encode_many(entries)
        ]
        if not self._as_latest:
            context = None
        if self._batch is None:
            self._spool.append(records, checkpoint, as_latest=self._as_latest, context=context)
            return
        self._batch.append((records, checkpoint, context))
        self._batch_bytes += sum(len(r.body) for r in records)
        if self._batch_bytes >= BATCH_BYTES:
            self._commit_batch()

    def has_room(self, server_id: str | None = None) -> bool:
        """False while the spool is at its cap (or ``server_id`` at its share): the tailer
        pauses (backpressure)."""
        return self._spool.has_room(server_id)

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Block until the uploader drained the spool below its cap, or timeout."""
        return self._spool.wait_for_room(timeout)

    def wait_while_full(
        self, still_sending: Callable[[], bool], poll_seconds: float = ROOM_POLL_SECONDS
    ) -> bool:
        """Block while the spool is at its cap; True once there is room.

        Only a running uploader makes room, so every ``poll_seconds`` ``still_sending()``
        is asked; when it says the uploader ended, waiting would never end: returns False.
        A KeyboardInterrupt (Ctrl-C) interrupts the wait.
        """
        while not self._spool.wait_for_room(poll_seconds):
            if not still_sending():
                return False
        return True


class PrintSink:
    """``run --dry-run``: print the bodies that would be sent; commit nothing."""

    def __init__(self, encoder: EntryEncoder, out: IO[bytes] | None = None) -> None:
        self.encoder = encoder
        self._out = out if out is not None else sys.stdout.buffer

    def batched(self) -> contextlib.AbstractContextManager[None]:
        """Nothing is committed: each delivery is printed at once."""
        return contextlib.nullcontext()

    def deliver(
        self,
        entries: Sequence[Entry],
        checkpoint: Checkpoint,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Write one JSON line per entry that passes the filter (the context is not kept)."""
        lines = self.encoder.encode_lines(entries)
        if lines:
            self._out.write(lines)
            self._out.flush()

    def has_room(self, server_id: str | None = None) -> bool:
        """Always: nothing is stored."""
        return True

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Never waits."""
        return True
