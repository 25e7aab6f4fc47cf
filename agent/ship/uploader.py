"""The uploader: spool → POST /logs, one request per entry, bounded concurrency.

Flow: a feeder takes records from the spool in batches (``batch_size``, ids above the last
one taken) into a queue; ``concurrency`` workers each send one record at a time over a
keep-alive pool. A record leaves the spool only when the API accepted it (``ack``) or it
was written to the dead-letter file (``dead_letter``); the ack is committed before the
worker takes its next record, so after a kill -9 at most ``concurrency`` requests are
sent again, with the same ``Idempotency-Key``.

A failed first attempt does not hold a worker: the record moves to its own retry task
(tenacity, full-jitter backoff, Retry-After honoured, never giving up on transient errors)
and the worker goes on with the next record, so one slow or failing request does not
stall the others. Retry tasks share the same concurrency limit for their attempts, and
``max_pending`` bounds how many records are in memory at all (memory does not grow with
the backlog).

Pauses (unauthorized/forbidden, quota_exceeded) close a shared gate: nothing is sent until
the pause ends, then a single probe request goes first (with the token reloaded after an
auth pause) and the others follow only once it was accepted.

Ordering the API sees: spool order (the order lines were read), except that up to
``concurrency`` requests overlap and a retried entry arrives after later ones.
``created_at`` is therefore not a reliable order; ``meta.timestamp`` is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from agent import events
from agent.errors import ShipError
from agent.metrics import Metrics
from agent.ship.auth import TokenProvider
from agent.ship.retry import (
    Outcome,
    PausedError,
    RejectedError,
    TransientError,
    WaitRetryAfter,
    failure,
    parse_error,
    retry_until_done,
)
from agent.ship.transport import Transport, TransportName, make_transport
from agent.ship.urls import check_url
from agent.state.deadletter import DeadLetterFile
from agent.state.spool import Spool, SpooledRecord

log = logging.getLogger(__name__)

DEGRADED_LOG_INTERVAL = 60.0  # seconds between two ship.degraded warnings


@dataclass(frozen=True, slots=True)
class UploaderOptions:
    """What a later config.py fills from ``[api]``; defaults are the documented ones."""

    url: str
    transport: TransportName = "aiohttp"
    http2: bool = False
    allow_insecure_http: bool = False
    concurrency: int = 8
    batch_size: int = 256
    linger_seconds: float = 0.2  # poll interval when the spool is empty (appends also wake)
    timeout_seconds: float = 10.0
    shutdown_deadline_seconds: float = 10.0
    max_pending: int = 1024  # records in memory: queued, in flight or waiting to retry
    backoff_initial_seconds: float = 0.25
    backoff_max_seconds: float = 60.0
    auth_retry_seconds: float = 180.0
    quota_retry_seconds: float = 900.0
    max_retry_after_seconds: float = 3600.0


@dataclass(frozen=True, slots=True)
class UploaderStatus:
    """What ``serverops-agent status`` shows about sending (never the token)."""

    pending: int  # taken from the spool, not yet accepted or dead-lettered
    paused: str | None  # "unauthorized", "forbidden", "quota" or None
    last_error: str | None  # the last failure, e.g. "HTTP 503 internal"


class _StopRequestedError(Exception):
    """Raised inside the uploader when a stop was requested before a request started."""


class Uploader:
    """Ships spooled records; :meth:`run` until :meth:`request_stop` (or the spool drains)."""

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
        url = check_url(options.url, allow_insecure_http=options.allow_insecure_http)
        self._spool = spool
        self._options = options
        self._token = token
        self._dead_letters = dead_letters
        self._metrics = metrics or Metrics()
        self._transport = transport or make_transport(
            options.transport,
            url,
            token.current(),
            concurrency=options.concurrency,
            timeout=options.timeout_seconds,
            http2=options.http2,
        )
        self._clock = clock
        self._on_accepted = on_accepted
        self._wait = WaitRetryAfter(
            options.backoff_initial_seconds,
            options.backoff_max_seconds,
            options.max_retry_after_seconds,
        )
        self._status_counters: dict[int, object] = {}
        self._cursor = 0
        self._pending = 0
        self._retry_tasks: set[asyncio.Task[None]] = set()
        self._sleeping: set[asyncio.Task[object]] = set()
        self._stopping = False
        self._failures_unreported = 0
        self._last_degraded_log = -DEGRADED_LOG_INTERVAL
        self._pause: Outcome | None = None
        self._resume_at = 0.0
        self._probe_free = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: Exception | None = None
        self._paused_reason: str | None = None
        self._last_error: str | None = None

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
        self._wake = asyncio.Event()
        self._gate = asyncio.Event()
        self._queue: asyncio.Queue[SpooledRecord | None] = asyncio.Queue()
        self._slots = asyncio.Semaphore(self._options.concurrency)
        self._spool.add_listener(self._on_append)
        workers = [asyncio.create_task(self._worker()) for _ in range(self._options.concurrency)]
        try:
            await self._feed(until_empty=until_empty)
        finally:
            self._stop_now()
            await self._shut_down(workers)
            self._spool.remove_listener(self._on_append)
            await self._transport.aclose()
        if self._error is not None:
            raise self._error

    def request_stop(self) -> None:
        """Ask :meth:`run` to finish (safe from any thread and from signal handlers)."""
        loop = self._loop
        if loop is None:
            self._stopping = True
        elif _in_loop_thread(loop):
            self._stop_now()
        else:
            loop.call_soon_threadsafe(self._stop_now)

    def reload_token(self) -> None:
        """Read the token again now (SIGHUP); an auth pause ends with an immediate probe.

        Safe from any thread: the work is done in the uploader's loop.
        """
        loop = self._loop
        if loop is None or _in_loop_thread(loop):
            self._apply_new_token()
        else:
            loop.call_soon_threadsafe(self._apply_new_token)

    def _apply_new_token(self) -> None:
        self._transport.set_token(self._token.reload())
        if self._pause is Outcome.PAUSE_AUTH:
            self._resume_at = self._clock()
            self._notify_gate()

    @property
    def pending(self) -> int:
        """Records taken from the spool and not yet accepted or dead-lettered."""
        return self._pending

    def status(self) -> UploaderStatus:
        """Pending count, pause reason and the last failure, for ``status`` and logs."""
        return UploaderStatus(self._pending, self._paused_reason, self._last_error)

    # -- feeding --------------------------------------------------------------------------

    def _on_append(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def _stop_now(self) -> None:
        self._stopping = True
        for task in list(self._sleeping):
            task.cancel()
        self._wake.set()
        self._notify_gate()

    async def _feed(self, *, until_empty: bool) -> None:
        options = self._options
        while not self._stopping:
            room = options.max_pending - self._pending
            if room <= 0 or self._queue.qsize() >= options.batch_size:
                await self._sleep_until_woken(options.linger_seconds)
                continue
            batch = self._spool.take(min(options.batch_size, room), self._cursor)
            if not batch:
                if until_empty and self._pending == 0:
                    return
                await self._sleep_until_woken(options.linger_seconds)
                continue
            self._cursor = batch[-1].id
            self._pending += len(batch)
            for record in batch:
                self._queue.put_nowait(record)

    async def _sleep_until_woken(self, timeout: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    # -- sending --------------------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            record = await self._queue.get()
            if record is None:
                return
            if self._stopping:
                self._release()  # stays in the spool
                continue
            try:
                await self._ship_once(record)
            except Exception as exc:  # the spool or dead-letter file failed: stop loudly
                self._fail(exc)
                self._release()
                return

    async def _ship_once(self, record: SpooledRecord) -> None:
        """First attempt; a failure that may heal moves to its own retry task."""
        try:
            await self._send(record)
        except _StopRequestedError:
            self._release()
        except RejectedError as exc:
            self._reject(record, exc)
        except ShipError as exc:  # retryable or paused: hand it to a retry task
            task = asyncio.create_task(self._retry(record, exc))
            self._retry_tasks.add(task)
            task.add_done_callback(self._retry_tasks.discard)

    async def _retry(self, record: SpooledRecord, first: ShipError) -> None:
        """Retry one record until accepted or refused (tenacity decides the waits)."""
        try:
            await retry_until_done(
                lambda: self._send(record), first, wait=self._wait, sleep=self._retry_sleep
            )
        except RejectedError as exc:
            self._reject(record, exc)
        except (_StopRequestedError, asyncio.CancelledError):
            self._release()
        except Exception as exc:
            self._fail(exc)
            self._release()

    async def _retry_sleep(self, seconds: float) -> None:
        """Sleep before a retry; stop() cancels sleeping retries (they are not in flight)."""
        if self._stopping:
            raise _StopRequestedError
        task = asyncio.current_task()
        assert task is not None
        self._sleeping.add(task)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._sleeping.discard(task)

    def _fail(self, exc: Exception) -> None:
        """Remember the first unexpected error; run() stops and raises it (nothing is lost:
        the record stays in the spool)."""
        if self._error is None:
            self._error = exc
        self._stop_now()

    async def _send(self, record: SpooledRecord) -> None:
        """One attempt; returns when accepted, raises the ShipError the answer means."""
        await self._pass_gate()
        async with self._slots:
            if self._stopping:
                raise _StopRequestedError
            try:
                answer = await self._transport.post(record.body, record.event_id)
            except TransientError as exc:
                self._on_transient(exc)
                raise
            self._count_status(answer.status)
            exc = failure(answer, time.time())
            if exc is None:
                self._accept(record)
                return
        if isinstance(exc, PausedError):
            self._enter_pause(exc)
        elif isinstance(exc, TransientError):
            self._on_transient(exc)
        raise exc

    def _accept(self, record: SpooledRecord) -> None:
        self._spool.ack((record,))
        self._pending -= 1
        self._metrics.entries_sent.inc()
        self._metrics.last_success.set(time.time())
        if self._pause is not None:
            self._leave_pause()
        if self._pending < self._options.max_pending // 2:
            self._wake.set()
        if self._on_accepted is not None:
            self._on_accepted(record)

    def _release(self) -> None:
        """A record leaves memory unsent (stop); it is still in the spool."""
        self._pending -= 1

    def _reject(self, record: SpooledRecord, exc: RejectedError) -> None:
        error = parse_error(exc.body) or {}
        self._dead_letters.write(
            event_id=record.event_id,
            server_id=record.server_id,
            status=exc.status,
            answer=exc.body,
            body=record.body,
        )
        self._spool.dead_letter((record,))
        self._pending -= 1
        self._last_error = f"event_id={record.event_id} refused: {exc}"
        self._metrics.entries_dead_lettered.inc()
        log.warning(
            "%s: the API refused event_id=%s for good (%s: %s); kept in %s",
            events.SHIP_DEAD_LETTERED,
            record.event_id,
            exc,
            error.get("message", "no API error message"),
            self._dead_letters.path,
        )
        if self._pause is not None:
            self._leave_pause()  # any answer that is not a pause ends one

    def _count_status(self, status: int) -> None:
        counter = self._status_counters.get(status)
        if counter is None:
            counter = self._metrics.http_responses.labels(str(status))
            self._status_counters[status] = counter
        counter.inc()  # type: ignore[attr-defined]

    def _on_transient(self, exc: TransientError) -> None:
        self._metrics.entries_retried.inc()
        self._last_error = str(exc)
        if self._pause is not None:
            self._probe_free = True  # the probe got no verdict: let the next one try
            self._notify_gate()
        self._failures_unreported += 1
        now = self._clock()
        if now - self._last_degraded_log >= DEGRADED_LOG_INTERVAL:
            log.warning(
                "%s: %s (%d transient failure(s) since the last report); retrying with "
                "backoff, nothing is dropped",
                events.SHIP_DEGRADED,
                exc,
                self._failures_unreported,
            )
            self._failures_unreported = 0
            self._last_degraded_log = now

    # -- pauses ---------------------------------------------------------------------------

    async def _pass_gate(self) -> None:
        """Wait while sending is paused; the first request after the pause is the probe."""
        while self._pause is not None:
            if self._stopping:
                raise _StopRequestedError
            now = self._clock()
            if self._probe_free and now >= self._resume_at:
                self._probe_free = False
                if self._pause is Outcome.PAUSE_AUTH:
                    self._transport.set_token(self._token.reload())
                return
            # Poll at least every second: a missed notification costs a second, not a hang.
            timeout = max(self._resume_at - now, 0.001) if self._probe_free else 1.0
            timeout = min(timeout, 1.0)
            self._gate.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gate.wait(), timeout)
        if self._stopping:
            raise _StopRequestedError

    def _enter_pause(self, exc: PausedError) -> None:
        options = self._options
        default = (
            options.auth_retry_seconds
            if exc.outcome is Outcome.PAUSE_AUTH
            else options.quota_retry_seconds
        )
        delay = min(
            exc.retry_after if exc.retry_after is not None else default,
            options.max_retry_after_seconds,
        )
        first = self._pause is not exc.outcome
        self._pause = exc.outcome
        self._resume_at = self._clock() + delay
        self._probe_free = True
        reason = _pause_reason(exc)
        self._paused_reason = self._last_error = reason
        self._metrics.sending_paused.labels(reason).set(1)
        if first:
            log.error("%s", _pause_message(exc, delay))
        else:
            log.debug("%s: still paused (%s); next try in %.0f s", _pause_event(exc), exc, delay)
        self._notify_gate()

    def _leave_pause(self) -> None:
        for reason in ("unauthorized", "forbidden", "quota"):
            self._metrics.sending_paused.labels(reason).set(0)
        self._pause = None
        self._paused_reason = None
        self._probe_free = True
        log.info("%s: the API accepts entries again; sending resumed", events.SHIP_RESUMED)
        self._notify_gate()

    def _notify_gate(self) -> None:
        self._gate.set()

    # -- shutdown -------------------------------------------------------------------------

    async def _shut_down(self, workers: list[asyncio.Task[None]]) -> None:
        for _ in workers:
            self._queue.put_nowait(None)
        self._notify_gate()
        tasks = [*workers, *self._retry_tasks]
        _done, late = await asyncio.wait(tasks, timeout=self._options.shutdown_deadline_seconds)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
        while not self._queue.empty():
            if self._queue.get_nowait() is not None:
                self._release()
        log.info(
            "%s: %d request(s) cut at the deadline; %d entries stay in the spool",
            events.SHIP_STOPPED,
            len(late),
            self._spool.stats().depth,
        )


def _pause_reason(exc: PausedError) -> str:
    if exc.outcome is Outcome.PAUSE_QUOTA:
        return "quota"
    return "forbidden" if (exc.status == 403 or _code(exc) == "forbidden") else "unauthorized"


def _pause_event(exc: PausedError) -> str:
    return events.SHIP_QUOTA if exc.outcome is Outcome.PAUSE_QUOTA else events.SHIP_UNAUTHORIZED


def _code(exc: PausedError) -> str | None:
    return exc.error.get("code") if exc.error else None


def _pause_message(exc: PausedError, delay: float) -> str:
    """One clear error for the operator (never the token itself)."""
    if exc.outcome is Outcome.PAUSE_AUTH:
        return (
            f"{events.SHIP_UNAUTHORIZED}: the API refused the token ({exc}); it needs a valid "
            f"token with the scope logs:write. Sending paused, every entry kept in the "
            f"spool; the token is reloaded and tried again every {delay:.0f} s"
        )
    error = exc.error or {}
    figures = ", ".join(
        f"{q.get('metric')}: used {q.get('used')} of {q.get('limit')}"
        + (" (cumulative: will not reset by waiting)" if q.get("cumulative") else "")
        for q in error.get("quotas", [])
        if isinstance(q, dict)
    )
    return (
        f"{events.SHIP_QUOTA}: {error.get('message', exc)}"
        + (f" [{figures}]" if figures else "")
        + f". Sending paused, every entry kept in the spool; next try in {delay:.0f} s"
    )


def _in_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


__all__ = ["Uploader", "UploaderOptions", "UploaderStatus"]
