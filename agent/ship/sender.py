"""One attempt to deliver one record, and the record's fate once the API decided.

An attempt passes the pause gate, takes one of ``concurrency`` slots, POSTs the record
with its ``Idempotency-Key`` and reads the answer through the retry rule
(:func:`agent.ship.retry.failure`). Accepted: the record is acked in the spool before the
slot is given back (so after a kill -9 at most ``concurrency`` requests are sent again);
the acks of one loop tick share one transaction (agent/ship/acks.py).
Otherwise the attempt raises the ShipError the answer means, after telling the gate (a
pause closes it, a verdict opens it) and the report.

A record leaves the spool only when the API accepted it (:meth:`Sender.send`) or it was
written to the dead-letter file (:meth:`Sender.dead_letter`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from agent.errors import (
    AgentError,
    FatalShipError,
    PausedShipError,
    PauseReason,
    RetryableShipError,
)
from agent.ship.acks import AckGroup
from agent.ship.auth import TokenProvider
from agent.ship.feeder import Feeder
from agent.ship.gate import GateState, PauseGate, Turn
from agent.ship.options import UploaderOptions
from agent.ship.pacing import Pacer, Slots
from agent.ship.recovery import DrainPacer, Outage
from agent.ship.report import ShipReport
from agent.ship.retry import failure
from agent.ship.transport import Answer, Transport
from agent.state.deadletter import DeadLetterFile
from agent.state.spool import Spool, SpooledRecord


class StopRequested(Exception):  # noqa: N818 - a signal inside agent.ship, not an error
    """A stop was requested before this request started; the record stays spooled.

    Control flow between the sender, the workers and the retry tasks; never leaves
    :meth:`agent.ship.uploader.Uploader.run`.
    """


class Sender:
    """Sends records for one uploader; shared by its workers and retry tasks."""

    def __init__(
        self,
        spool: Spool,
        options: UploaderOptions,
        *,
        transport: Transport,
        token: TokenProvider,
        gate: PauseGate,
        report: ShipReport,
        feeder: Feeder,
        dead_letters: DeadLetterFile,
        on_accepted: Callable[[SpooledRecord], None] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spool = spool
        self._options = options
        self._transport = transport
        self._token = token
        self._gate = gate
        self._report = report
        self._feeder = feeder
        self._dead_letters = dead_letters
        self._on_accepted = on_accepted
        self._clock = clock
        self.pacer = Pacer(options.timeout_seconds, options.concurrency)
        self._slots = Slots(self.pacer)
        self.outage = Outage()
        self.drain = DrainPacer()
        self.on_recovered: Callable[[float], None] | None = None  # set by the uploader
        self._stopping = asyncio.Event()
        self._acks = AckGroup(spool)

    def stop(self) -> None:
        """Requests waiting for their drain turn give up (they stay spooled)."""
        self._stopping.set()

    async def send(self, record: SpooledRecord) -> None:
        """One attempt; returns once accepted and acked, else raises what the answer means
        (RetryableShipError, PausedShipError, FatalShipError) or StopRequested."""
        if self._gate.state is not GateState.OPEN:  # open: no coroutine, no decision object
            await self._pass_gate()
        turn = self.drain.delay(self._clock())  # 0 except while a backlog drains
        if turn > 0:
            await self._wait_turn(turn)
        async with self._slots:
            if self._gate.state is GateState.STOPPED:  # stopped while waiting for a slot
                raise StopRequested
            answer = await self._post(record)
            self._report.answered(answer.status)
            exc = failure(answer, time.time())
            if exc is None:
                await self._acks.ack(record)  # before the slot is given back
                self._accepted(record)
                return
        if isinstance(exc, PausedShipError):
            self._pause(exc)
        elif isinstance(exc, RetryableShipError):
            self._transient(exc)
        raise exc

    async def _post(self, record: SpooledRecord) -> Answer:
        """The request, under the adaptive timeout; every failure without an answer is a
        RetryableShipError (an unexpected exception is reported once and retried)."""
        timeout = self.pacer.timeout
        started = self._clock()
        try:
            async with asyncio.timeout(timeout):
                answer = await self._transport.post(record.body, record.event_id)
        except TimeoutError:  # ours: the transport's own timeout is above the pacer's cap
            self.pacer.timed_out(timeout)
            self._paced()
            exc: RetryableShipError = RetryableShipError(f"timeout after {timeout:g} s")
        except RetryableShipError as failed:
            exc = failed
        except AgentError:
            raise
        except Exception as unexpected:  # e.g. aiohttp's ValueError for a bad header
            secret = self._token.current().get_secret_value()
            exc = self._report.unexpected("sender", unexpected, secret)
        else:
            latency = self._clock() - started
            self.pacer.answered(latency)
            self._paced()
            self._report.request(record.event_id, answer.status, latency)
            return answer
        self._report.request(record.event_id, str(exc), self._clock() - started)
        self._transient(exc)
        raise exc

    def _paced(self) -> None:
        self._report.paced(self.pacer.timeout, self.pacer.limit)

    async def _wait_turn(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            raise StopRequested

    async def _pass_gate(self) -> None:
        turn = await self._gate.wait_turn()
        if turn is Turn.STOP:
            raise StopRequested
        if turn is Turn.PROBE and self._gate.reason is PauseReason.AUTH:
            self._transport.set_token(self._token.reload())

    def _accepted(self, record: SpooledRecord) -> None:
        self._report.accepted()
        self._verdict()
        self._feeder.settled()
        if self._on_accepted is not None:
            self._on_accepted(record)

    def dead_letter(self, record: SpooledRecord, exc: FatalShipError) -> None:
        """The API refused the record for good: keep it in the dead-letter file."""
        self._dead_letters.write(
            event_id=record.event_id,
            server_id=record.server_id,
            status=exc.status,
            answer=exc.body,
            body=record.body,
        )
        self._spool.dead_letter((record,))
        self._feeder.settled()
        self._report.dead_lettered(record, exc, self._dead_letters.path)
        self._verdict()  # a refusal is a verdict too: the API is reachable and authorised

    def _verdict(self) -> None:
        if self._gate.verdict():
            self._report.resumed()
        outage = self.outage.succeeded(self._clock())
        if outage is not None and self.on_recovered is not None:
            self.on_recovered(outage)

    def _transient(self, exc: RetryableShipError) -> None:
        self._report.transient(exc)
        self._gate.no_verdict()
        self.outage.failed(self._clock())

    def _pause(self, exc: PausedShipError) -> None:
        options = self._options
        if exc.reason is PauseReason.CONFIG:  # a wrong URL does not heal by waiting: SIGHUP
            new = self._gate.pause(exc.reason, float("inf"))
            self._report.paused_by(exc, float("inf"), new=new)
            return
        default = (
            options.auth_retry_seconds
            if exc.reason is PauseReason.AUTH
            else options.quota_retry_seconds
        )
        delay = default if exc.retry_after is None else exc.retry_after
        delay = min(delay, options.max_retry_after_seconds)
        new = self._gate.pause(exc.reason, delay)
        self._report.paused_by(exc, delay, new=new)
