"""Acks committed together: the answers of one event-loop tick in one spool transaction.

Each accepted record must leave the spool before its request slot is given back, so that
after a kill -9 at most ``concurrency`` accepted entries are sent again (each with its
``Idempotency-Key``). Committing each ack alone costs one SQLite transaction per entry,
the largest share of the uploader's own work (bench/README.md "### Acks per loop tick").

Here a sender that got its answer adds the record and waits; the first one of a tick
schedules the commit with ``call_soon``, which runs after every sender woken in the same
tick has added its record. Each sender keeps its slot until the commit, so the bound
above still holds: the batch only groups answers that were already in flight together.

A failed commit (e.g. the disk is full) is raised in every sender of the batch, as a
failed single ack was; the records stay spooled and are sent again after a restart.
"""

from __future__ import annotations

import asyncio

from agent.state.spool import Spool, SpooledRecord


class AckGroup:
    """Collects the acks of one loop tick and commits them in one transaction."""

    def __init__(self, spool: Spool) -> None:
        self._spool = spool
        self._records: list[SpooledRecord] = []
        self._waiters: list[asyncio.Future[None]] = []

    async def ack(self, record: SpooledRecord) -> None:
        """Return once ``record`` is removed from the spool (raise what the commit raised)."""
        loop = asyncio.get_running_loop()
        if not self._records:
            loop.call_soon(self._commit)
        waiter = loop.create_future()
        self._records.append(record)
        self._waiters.append(waiter)
        await waiter

    def _commit(self) -> None:
        records, waiters = self._records, self._waiters
        self._records, self._waiters = [], []
        try:
            self._spool.ack(records)
        except Exception as exc:  # each sender of the batch raises it, as its own ack would
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter in waiters:
            if not waiter.done():  # a sender cancelled meanwhile: its ack is committed anyway
                waiter.set_result(None)
