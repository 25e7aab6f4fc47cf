"""The feeder: spool -> queue, in batches by id, with a bound on records in memory.

It takes up to ``batch_size`` records not taken yet, and never holds
more than ``max_pending`` records in memory (queued, in flight or waiting to retry), so
memory does not grow with the backlog. When the spool is empty it waits for an append
(the spool's listener wakes it from any thread) or ``batch_linger_seconds``, whichever
comes first.

Fairness between servers: a batch is taken with :meth:`Spool.take_fair`, each server
with records waiting getting its part (in spool order within a server, alternating
between servers), so a server with a large backlog delays another's entries by one turn,
not by its whole backlog. The cursor is therefore one per server: the id of each
server's last record taken.

``pending`` counts records taken and not yet settled; every record taken is settled once
by :meth:`Feeder.settled` (accepted, dead-lettered, or released unsent on stop: it is
still in the spool, and is read again at the next start).
"""

from __future__ import annotations

import asyncio
import contextlib

from agent.state.spool import Spool, SpooledRecord


class Feeder:
    """Fills :attr:`queue` from the spool until :meth:`stop`."""

    def __init__(
        self, spool: Spool, *, batch_size: int, max_pending: int, linger_seconds: float
    ) -> None:
        self._spool = spool
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._linger = linger_seconds
        self._cursors: dict[str, int] = {}  # per server: the id of its last record taken
        self.pending = 0
        self.queue: asyncio.Queue[SpooledRecord | None] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False

    async def run(self, *, until_empty: bool) -> None:
        """Feed until :meth:`stop`; with ``until_empty``, also return once the spool is
        drained and nothing is pending."""
        self._loop = asyncio.get_running_loop()
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
            batch = self._spool.take_fair(min(self._batch_size, room), self._cursors)
            if not batch:
                if until_empty and self.pending == 0:
                    return
                await self._sleep_until_woken()
                continue
            self.pending += len(batch)
            for record in batch:
                self.queue.put_nowait(record)

    async def _sleep_until_woken(self) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._linger)

    def _on_append(self) -> None:  # the spool's listener: called from the appending thread
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

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
