"""The uploader: spool → POST /logs, one request per entry, bounded concurrency.

This module is the workers and their lifecycle; each other job is a unit of its own:

* :mod:`agent.ship.feeder`: spool → queue in batches, ``max_pending`` records in memory;
* :mod:`agent.ship.sender`: one attempt for one record, and its fate (ack, dead letter);
* :mod:`agent.ship.retries`: a record whose first attempt failed is retried in its own
  task (tenacity), so the worker goes on with the next one;
* :mod:`agent.ship.gate`: pauses (unauthorized/forbidden, quota_exceeded) close a gate
  shared by every request; one probe goes first when the pause ends (with the token
  reloaded after an auth pause) and the others follow once it got a verdict;
* :mod:`agent.ship.report`: metrics, ``status()`` and throttled logs;
* :mod:`agent.ship.pacing`: the adaptive timeout and AIMD concurrency (a slow API);
* :mod:`agent.ship.recovery`: the end of an outage wakes the retries and paces the backlog.

No task dies silently: an unexpected exception in a request is reported once and retried
(:meth:`ShipReport.unexpected`), a failed spool read is retried with backoff by the
feeder; what cannot be retried (the spool or dead-letter file failing) stops the uploader
and :meth:`run` raises it, for the daemon to exit 1. :attr:`Uploader.alive` tells the
daemon's watchdog whether the feeder and every worker still run.

``concurrency`` workers each send one record at a time over a keep-alive pool. A record
leaves the spool only when the API accepted it or it was written to the dead-letter file;
the ack is committed before the worker takes its next record, so after a kill -9 at most
``concurrency`` requests are sent again, with the same ``Idempotency-Key``.

Ordering the API sees: spool order (the order lines were read), except that up to
``concurrency`` requests overlap and a retried entry arrives after later ones.
``created_at`` is therefore not a reliable order; ``meta.timestamp`` is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from agent.errors import FatalShipError, ShipError
from agent.metrics import Metrics
from agent.ship.auth import TokenProvider
from agent.ship.feeder import Feeder
from agent.ship.gate import GateState, PauseGate
from agent.ship.options import UploaderOptions, UploaderStatus, transport_for
from agent.ship.pacing import MAX_TIMEOUT_SECONDS
from agent.ship.recovery import MIN_OUTAGE_SECONDS, WAKE_JITTER_SECONDS
from agent.ship.report import ShipReport
from agent.ship.retries import RetryTasks
from agent.ship.sender import Sender, StopRequested
from agent.ship.transport import Transport
from agent.ship.urls import check_url
from agent.state.deadletter import DeadLetterFile
from agent.state.spool import Spool, SpooledRecord


class Uploader:
    """Ships spooled records; :meth:`run` (once) until :meth:`request_stop` or the spool
    drains."""

    def __init__(
        self,
        spool: Spool,
        options: UploaderOptions,
        token: TokenProvider,
        *,
        dead_letters: DeadLetterFile,
        metrics: Metrics | None = None,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_accepted: Callable[[SpooledRecord], None] | None = None,
    ) -> None:
        # A URL the options do not allow is a config error, even with an injected transport.
        ingest_url = check_url(options.url, allow_insecure_http=options.allow_insecure_http)
        self._spool = spool
        self._options = options
        self._token = token
        self._clock = clock
        # The sender enforces the (adaptive) request timeout; the transport's is a backstop.
        backstop = max(options.timeout_seconds, MAX_TIMEOUT_SECONDS) + 5.0
        self._transport = transport or transport_for(options, token.current(), timeout=backstop)
        self._report = ShipReport(metrics or Metrics(), clock, url=ingest_url)
        self._gate = PauseGate(clock)
        self._feeder = Feeder(
            spool,
            batch_size=options.batch_size,
            max_pending=options.max_pending,
            linger_seconds=options.batch_linger_seconds,
            on_error=self._report.unexpected,
        )
        self._sender = Sender(
            spool,
            options,
            transport=self._transport,
            token=token,
            gate=self._gate,
            report=self._report,
            feeder=self._feeder,
            dead_letters=dead_letters,
            on_accepted=on_accepted,
            clock=clock,
        )
        self._sender.on_recovered = self._recovered
        self._retries = RetryTasks(
            self._sender, self._feeder, options, on_error=self._fail, clock=clock
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: Exception | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._ended = False

    def __repr__(self) -> str:
        return f"Uploader({self._transport!r}, concurrency={self._options.concurrency})"

    # -- public -------------------------------------------------------------------------

    async def run(self, *, until_empty: bool = False) -> None:
        """Send until stopped; with ``until_empty`` also return once the spool is empty.

        On stop, requests in flight finish within ``shutdown_deadline_seconds``; records not
        sent stay in the spool for the next start. If the spool or the dead-letter file
        fails, the uploader stops and raises that error (the daemon decides what next).
        """
        self._loop = asyncio.get_running_loop()
        workers = [asyncio.create_task(self._worker()) for _ in range(self._options.concurrency)]
        self._workers = workers
        try:
            await self._feeder.run(until_empty=until_empty)
        finally:
            self._ended = True
            self._stop_now()
            await self._shut_down(workers)
            await self._transport.aclose()
        if self._error is not None:
            raise self._error

    def request_stop(self) -> None:
        """Ask :meth:`run` to finish (safe from any thread and from signal handlers)."""
        loop = self._loop
        if loop is None or _in_loop_thread(loop):
            self._stop_now()
        else:
            loop.call_soon_threadsafe(self._stop_now)

    @property
    def alive(self) -> bool:
        """False once :meth:`run` ended, failed, or any worker ended (the daemon's watchdog
        requires it); True before :meth:`run` started."""
        if self._ended or self._error is not None:
            return False
        return not any(worker.done() for worker in self._workers)

    def reload_token(self) -> None:
        """Read the token again now (SIGHUP); an auth pause ends with an immediate probe,
        and so does a configuration pause (404/405), which waits for this.

        Safe from any thread: the work is done in the uploader's loop.
        """
        loop = self._loop
        if loop is None or _in_loop_thread(loop):
            self._apply_new_token()
        else:
            loop.call_soon_threadsafe(self._apply_new_token)

    @property
    def pending(self) -> int:
        """Records taken from the spool and not yet accepted or dead-lettered."""
        return self._feeder.pending

    def status(self) -> UploaderStatus:
        """Pending count, pause reason and the last failure, for ``status`` and logs."""
        return UploaderStatus(self._feeder.pending, self._report.paused, self._report.last_error)

    # -- workers --------------------------------------------------------------------------

    def _apply_new_token(self) -> None:
        self._transport.set_token(self._token.reload())
        self._gate.token_reloaded()

    def _recovered(self, outage: float) -> None:
        """The first verdict after failures: let the waiting retries go. After a real outage
        also wake the sleeping ones (with jitter), pace the backlog, and say so."""
        if outage < MIN_OUTAGE_SECONDS:  # a blip (one 500, say): the backoff stands
            self._retries.release(0.0)
            return
        backlog = self._spool.stats().depth
        window = self._sender.drain.start(self._clock(), backlog, outage)
        within = min(WAKE_JITTER_SECONDS, window) if window > 0 else WAKE_JITTER_SECONDS
        self._retries.wake(within)
        self._retries.release(within)
        self._report.recovered(outage, backlog, window)

    def _stop_now(self) -> None:
        self._sender.stop()
        self._gate.stop()
        self._feeder.stop()
        self._retries.stop()

    async def _worker(self) -> None:
        while True:
            record = await self._feeder.queue.get()
            if record is None:
                return
            if self._gate.state is GateState.STOPPED:
                self._feeder.settled()  # stays in the spool
                continue
            try:
                await self._ship_once(record)
            except Exception as exc:  # the spool or dead-letter file failed: stop loudly
                self._fail(exc)
                self._feeder.settled()
                return

    async def _ship_once(self, record: SpooledRecord) -> None:
        """First attempt; a failure that may heal moves to its own retry task."""
        try:
            await self._sender.send(record)
        except StopRequested:
            self._feeder.settled()
        except FatalShipError as exc:
            self._sender.dead_letter(record, exc)
        except ShipError as exc:  # retryable or paused: hand it to a retry task
            self._retries.start(record, exc)

    def _fail(self, exc: Exception) -> None:
        """Remember the first unexpected error; run() stops and raises it (nothing is lost:
        the record stays in the spool)."""
        if self._error is None:
            self._error = exc
        self._stop_now()

    async def _shut_down(self, workers: list[asyncio.Task[None]]) -> None:
        for _ in workers:
            self._feeder.queue.put_nowait(None)
        tasks = [*workers, *self._retries.tasks]
        _done, late = await asyncio.wait(tasks, timeout=self._options.shutdown_deadline_seconds)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
        self._feeder.drain_unsent()
        self._report.stopped(len(late), self._spool.stats().depth)


def _in_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


__all__ = ["Uploader", "UploaderOptions", "UploaderStatus"]
