"""Pacing: an adaptive request timeout and AIMD concurrency, for an API slower than asked.

The API stores an entry and then answers; an answer later than ``api.timeout_seconds``
is a timeout for us, the entry is sent again, and the API stores it again. Retrying with
the same short timeout would repeat that forever. So:

* after ``TIMEOUTS_TO_WIDEN`` consecutive timeouts of requests sent with the *current*
  timeout (requests sent before a widening do not count twice), the timeout doubles (up
  to ``MAX_TIMEOUT_SECONDS``) and the concurrency limit halves (at least 1);
* every answer raises the limit by one per ``limit`` answers (additive increase, about
  one step per round of requests), back up to ``api.concurrency``;
* an answer well within the timeout (under half of it) narrows the timeout by 10 %, never
  below the configured one nor below twice that answer's latency, so it does not narrow
  back into the API's latency and oscillate.

One warning (the first widening) says that duplicates may result and names
``api.timeout_seconds``; later steps are logged at DEBUG. :class:`Pacer` is synchronous
and takes latencies, so it is tested without waiting; :class:`Slots` is the asyncio
semaphore whose size follows :attr:`Pacer.limit`.
"""

from __future__ import annotations

import asyncio
import collections
import logging

from agent import events

log = logging.getLogger(__name__)

MAX_TIMEOUT_SECONDS = 60.0
TIMEOUTS_TO_WIDEN = 2
NARROW_FACTOR = 0.9


class Pacer:
    """The current request timeout and concurrency limit of one uploader."""

    def __init__(self, timeout: float, concurrency: int) -> None:
        self._base_timeout = timeout
        self._max_limit = concurrency
        self.timeout = timeout
        self.limit = concurrency
        self._timeouts = 0  # consecutive timeouts at the current timeout
        self._answers = 0  # answers since the last additive step
        self._warned = False

    def timed_out(self, used: float) -> None:
        """A request sent with timeout ``used`` got no answer in time."""
        if used < self.timeout:  # sent before the last widening: already accounted for
            return
        self._timeouts += 1
        if self._timeouts < TIMEOUTS_TO_WIDEN or self.timeout >= MAX_TIMEOUT_SECONDS:
            return
        self._timeouts = 0
        self._answers = 0
        self.timeout = min(self.timeout * 2, MAX_TIMEOUT_SECONDS)
        self.limit = max(1, self.limit // 2)
        self._log_widened()

    def answered(self, latency: float) -> None:
        """An answer came back after ``latency`` seconds (any status)."""
        self._timeouts = 0
        self._answers += 1
        if self.limit < self._max_limit and self._answers >= self.limit:
            self._answers = 0
            self.limit += 1
            log.debug("%s: concurrency raised to %d", events.SHIP_PACING, self.limit)
        if self.timeout > self._base_timeout and latency * 2 < self.timeout:
            narrowed = max(self._base_timeout, self.timeout * NARROW_FACTOR, latency * 2)
            if narrowed < self.timeout:
                self.timeout = narrowed
                log.debug("%s: timeout narrowed to %.2f s", events.SHIP_PACING, self.timeout)

    def _log_widened(self) -> None:
        if self._warned:
            log.debug(
                "%s: timeout widened to %.1f s, concurrency %d",
                events.SHIP_PACING,
                self.timeout,
                self.limit,
            )
            return
        self._warned = True
        log.warning(
            "%s: the API did not answer within api.timeout_seconds = %g s; waiting up to "
            "%g s now and sending %d request(s) at a time. An API that stores an entry and "
            "answers late may have stored it already, so duplicates may result (same "
            "event_id). Raise api.timeout_seconds if the API is usually this slow",
            events.SHIP_SLOW_API,
            self._base_timeout,
            self.timeout,
            self.limit,
        )


class Slots:
    """A semaphore whose size is read from the pacer (AIMD concurrency), first come first
    served. A smaller limit takes effect as requests finish: none in flight is cut."""

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer
        self._in_use = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def in_use(self) -> int:
        """Requests holding a slot now."""
        return self._in_use

    async def __aenter__(self) -> None:
        if not self._waiters and self._in_use < self._pacer.limit:
            self._in_use += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # granted, then cancelled: pass it on
                self._release()
            raise  # a cancelled waiter left in the deque is skipped by _release

    async def __aexit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        self._in_use -= 1
        while self._waiters and self._in_use < self._pacer.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._in_use += 1
