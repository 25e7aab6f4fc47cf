"""The feeder: spool -> queue, in batches by id, with a bound on records in memory.

It takes up to ``batch_size`` records not taken yet, and never holds
more than ``max_pending`` records in memory (queued, in flight or waiting to retry), so
memory does not grow with the backlog. When the spool is empty it waits for an append
(the spool's listener wakes it: directly from the loop's own thread, where the daemon's
tailer appends, else through ``call_soon_threadsafe``); it looks again after
``EMPTY_POLL_SECONDS`` at the latest (a safety net: idle, an agent wakes for nothing).
While the queue is full it looks every ``batch_linger_seconds``.

Fairness between servers: a batch is taken with :meth:`Spool.take_fair`, each server
with records waiting getting its part (in spool order within a server, alternating
between servers), so a server with a large backlog delays another's entries by one turn,
not by its whole backlog. The cursor is therefore one per server: the id of each
server's last record taken.

``pending`` counts records taken and not yet settled; every record taken is settled once
by :meth:`Feeder.settled` (accepted, dead-lettered, or released unsent on stop: it is
still in the spool, and is read again at the next start).

A failed read of the spool is reported (``on_error``: counted, its traceback logged once)
and tried again with backoff; after ``MAX_READ_FAILURES`` in a row the error is raised, the
uploader stops and the daemon exits 1 for systemd to restart it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from agent import events
from agent.state.spool import Spool, SpooledRecord

log = logging.getLogger(__name__)

MAX_READ_FAILURES = 8  # in a row, about 4 minutes with the backoff below: then exit 1
READ_BACKOFF_SECONDS = (1.0, 60.0)  # first and longest wait after a failed read
# An empty spool is not polled every linger: each append wakes the feeder (the wake flag
# is cleared before the read, so none is missed); this is only a safety net.
EMPTY_POLL_SECONDS = 5.0


class Feeder:
    """Fills :attr:`queue` from the spool until :meth:`stop`."""

    def __init__(
        self,
        spool: Spool,
        *,
        batch_size: int,
        max_pending: int,
        linger_seconds: float,
        on_error: Callable[[str, Exception], object] | None = None,
    ) -> None:
        self._spool = spool
        self._on_error = on_error  # reports a failed read (counted, logged once)
        self._read_failures = 0
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._linger = linger_seconds
        self._cursors: dict[str, int] = {}  # per server: the id of its last record taken
        self.pending = 0
        self.queue: asyncio.Queue[SpooledRecord | None] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None  # appends from it set the flag directly
        self._stopped = False

    async def run(self, *, until_empty: bool) -> None:
        """Feed until :meth:`stop`; with ``until_empty``, also return once the spool is
        drained and nothing is pending."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._spool.add_listener(self._on_append)
        try:
            await self._feed(until_empty)
        finally:
            self._spool.remove_listener(self._on_append)

    async def _feed(self, until_empty: bool) -> None:
        while not self._stopped:
            room = self._max_pending - self.pending
            if room <= 0 or self.queue.qsize() >= self._batch_size:
                await self._sleep_until_woken()
                continue
            self._wake.clear()  # before the read: an append from now on is not missed
            batch = await self._take(min(self._batch_size, room))
            if batch is None:
                continue
            if not batch:
                if until_empty and self.pending == 0:
                    return
                await self._wait_woken(max(self._linger, EMPTY_POLL_SECONDS))
                continue
            self.pending += len(batch)
            log.debug(
                "%s: %d record(s) from the spool, ids %d-%d, %d pending",
                events.SHIP_BATCH,
                len(batch),
                batch[0].id,
                batch[-1].id,
                self.pending,
            )
            for record in batch:
                self.queue.put_nowait(record)

    async def _take(self, limit: int) -> list[SpooledRecord] | None:
        """A batch, or None after a failed read (reported, then waited out with backoff)."""
        try:
            batch = self._spool.take_fair(limit, self._cursors)
        except Exception as exc:
            self._read_failures += 1
            if self._on_error is None or self._read_failures >= MAX_READ_FAILURES:
                raise
            self._on_error("feeder", exc)
            first, longest = READ_BACKOFF_SECONDS
            await self._sleep(min(longest, first * 2 ** (self._read_failures - 1)))
            return None
        self._read_failures = 0
        return batch

    async def _sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (appends do not shorten it), unless stopped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._stopped and (left := deadline - loop.time()) > 0:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), left)

    async def _sleep_until_woken(self) -> None:
        self._wake.clear()
        await self._wait_woken(self._linger)

    async def _wait_woken(self, seconds: float) -> None:
        """Wait for :attr:`_wake` (not cleared here) or ``seconds``."""
        # asyncio.timeout, not wait_for: wait_for wraps the wait in a new Task each time,
        # and the feeder waits once per tailer pass.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    def _on_append(self) -> None:  # the spool's listener: called from the appending thread
        if threading.get_ident() == self._loop_thread:
            # The daemon's tailer runs on this loop: no self-pipe write, no cross-thread hop.
            self._wake.set()
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)  # backfill, tests: another thread

    def settled(self) -> None:
        """One record left memory; below half the bound, take more now rather than later."""
        self.pending -= 1
        if self.pending < self._max_pending // 2:
            self._wake.set()

    def stop(self) -> None:
        """Take nothing more (in the feeder's loop)."""
        self._stopped = True
        self._wake.set()

    def drain_unsent(self) -> None:
        """Settle what is still queued (after the workers stopped): it stays spooled."""
        while not self.queue.empty():
            if self.queue.get_nowait() is not None:
                self.settled()
