"""Retry tasks: a record whose first attempt failed is retried in a task of its own.

A failed first attempt does not hold a worker: the record moves here and the worker goes
on with the next one, so one slow or failing request does not stall the others. Each task
retries through tenacity (:func:`agent.ship.retry.retry_until_done`: full-jitter backoff,
Retry-After honoured, never giving up on transient errors or pauses) until the record is
accepted or refused for good. Its attempts share the workers' concurrency slots (they go
through the same :class:`~agent.ship.sender.Sender`), and the feeder's ``max_pending``
bounds how many records wait here.

On stop, sleeping tasks are cancelled at once (they hold no request); a task in the middle
of a request finishes it, or is cut at the shutdown deadline by the uploader.

Recovery (issue 10, item 6): a retry sleeping out a 60 s backoff must not keep the backlog
waiting once the API is back: the first success after an outage wakes every sleeping retry
(:meth:`RetryTasks.wake`, each at a random point of a short window, so they do not arrive
at once); :mod:`agent.ship.recovery` decides when that is and paces the backlog. During
an outage only one retry probes (its backoff goes on); the others park until it ends.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from agent.errors import FatalShipError, ShipError
from agent.ship.feeder import Feeder
from agent.ship.options import UploaderOptions
from agent.ship.recovery import probe_cap, wake_delay
from agent.ship.retry import WaitRetryAfter, retry_until_done
from agent.ship.sender import Sender, StopRequested
from agent.state.spool import SpooledRecord


class RetryTasks:
    """The retry tasks of one uploader."""

    def __init__(
        self,
        sender: Sender,
        feeder: Feeder,
        options: UploaderOptions,
        *,
        on_error: Callable[[Exception], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock  # the sender's: outage times are read from it
        self._sender = sender
        self._feeder = feeder
        self._on_error = on_error  # the spool or dead-letter file failed: the uploader stops
        self._wait = WaitRetryAfter(
            options.backoff_initial_seconds,
            options.backoff_max_seconds,
            options.max_retry_after_seconds,
        )
        self.tasks: set[asyncio.Task[None]] = set()
        self._sleepers: dict[asyncio.Future[None], asyncio.TimerHandle] = {}
        self._random = random.Random()
        self._stopped = False
        self._outage_over = asyncio.Event()  # replaced by a fresh one at each release
        self._release_within = 0.0
        self.parked = 0  # retries waiting for the outage to end

    def start(self, record: SpooledRecord, first: ShipError) -> None:
        """Retry ``record`` in its own task; ``first`` is how its first attempt failed."""
        task = asyncio.create_task(self._retry(record, first))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _retry(self, record: SpooledRecord, first: ShipError) -> None:
        try:
            await retry_until_done(
                lambda: self._attempt(record), first, wait=self._wait, sleep=self._sleep
            )
        except FatalShipError as exc:
            self._sender.dead_letter(record, exc)
        except (StopRequested, asyncio.CancelledError):
            self._feeder.settled()  # unsent: it stays in the spool
        except Exception as exc:
            self._on_error(exc)
            self._feeder.settled()
        finally:
            self._sender.outage.release(record)

    async def _attempt(self, record: SpooledRecord) -> None:
        """One more attempt; in an outage only the prober goes, the others wait for its end."""
        while not self._sender.outage.may_retry(record):
            await self._park()
        await self._sender.send(record)

    async def _park(self) -> None:
        """Wait for the outage to end (:meth:`release`) or a stop."""
        if self._stopped:
            raise StopRequested
        over = self._outage_over
        self.parked += 1
        try:
            await over.wait()
        finally:
            self.parked -= 1
        if self._stopped:
            raise StopRequested
        if self._release_within > 0:
            await self._sleep(self._random.uniform(0.0, self._release_within))

    def release(self, within: float) -> None:
        """The outage is over: parked retries go, each at a random point of the next
        ``within`` seconds (0: at once)."""
        self._release_within = within
        self._outage_over.set()
        self._outage_over = asyncio.Event()

    async def _sleep(self, seconds: float) -> None:
        """tenacity's sleep; :meth:`wake` shortens it, a stop cancels it (a sleeping retry
        has nothing in flight)."""
        if self._stopped:
            raise StopRequested
        since = self._sender.outage.since
        if since is not None:  # the prober must notice the API's return soon
            seconds = min(seconds, probe_cap(self._clock() - since))
        loop = asyncio.get_running_loop()
        wakeup: asyncio.Future[None] = loop.create_future()
        self._sleepers[wakeup] = loop.call_later(seconds, _done, wakeup)
        try:
            await wakeup
        finally:
            handle = self._sleepers.pop(wakeup, None)
            if handle is not None:
                handle.cancel()

    @property
    def sleeping(self) -> int:
        """Retries waiting out a backoff now."""
        return len(self._sleepers)

    def wake(self, within: float) -> None:
        """The API is back: every sleeping retry tries again at a random point of the next
        ``within`` seconds (or at its own time, if that is sooner)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        for wakeup, handle in list(self._sleepers.items()):
            delay = wake_delay(handle.when() - now, within, self._random)
            if delay is not None:
                handle.cancel()
                self._sleepers[wakeup] = loop.call_later(delay, _done, wakeup)

    def stop(self) -> None:
        """Cancel every sleeping retry; later sleeps end at once."""
        self._stopped = True
        self._outage_over.set()
        for wakeup in list(self._sleepers):
            wakeup.cancel()


def _done(wakeup: asyncio.Future[None]) -> None:
    if not wakeup.done():
        wakeup.set_result(None)
