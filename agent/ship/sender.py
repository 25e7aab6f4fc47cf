"""One attempt to deliver one record, and the record's fate once the API decided.

An attempt passes the pause gate, takes one of ``concurrency`` slots, POSTs the record
with its ``Idempotency-Key`` and reads the answer through the retry rule
(:func:`agent.ship.retry.failure`). Accepted: the record is acked in the spool before the
slot is given back (so after a kill -9 at most ``concurrency`` requests are sent again).
Otherwise the attempt raises the ShipError the answer means, after telling the gate (a
pause closes it, a verdict opens it) and the report.

A record leaves the spool only when the API accepted it (:meth:`Sender.send`) or it was
written to the dead-letter file (:meth:`Sender.dead_letter`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from agent.errors import FatalShipError, PausedShipError, PauseReason, RetryableShipError
from agent.ship.auth import TokenProvider
from agent.ship.feeder import Feeder
from agent.ship.gate import GateState, PauseGate, Turn
from agent.ship.options import UploaderOptions
from agent.ship.report import ShipReport
from agent.ship.retry import failure
from agent.ship.transport import Transport
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
        self._slots = asyncio.Semaphore(options.concurrency)

    async def send(self, record: SpooledRecord) -> None:
        """One attempt; returns once accepted and acked, else raises what the answer means
        (RetryableShipError, PausedShipError, FatalShipError) or StopRequested."""
        if self._gate.state is not GateState.OPEN:  # open: no coroutine, no decision object
            await self._pass_gate()
        async with self._slots:
            if self._gate.state is GateState.STOPPED:  # stopped while waiting for a slot
                raise StopRequested
            try:
                answer = await self._transport.post(record.body, record.event_id)
            except RetryableShipError as exc:
                self._transient(exc)
                raise
            self._report.answered(answer.status)
            exc = failure(answer, time.time())
            if exc is None:
                self._accepted(record)
                return
        if isinstance(exc, PausedShipError):
            self._pause(exc)
        elif isinstance(exc, RetryableShipError):
            self._transient(exc)
        raise exc

    async def _pass_gate(self) -> None:
        turn = await self._gate.wait_turn()
        if turn is Turn.STOP:
            raise StopRequested
        if turn is Turn.PROBE and self._gate.reason is PauseReason.AUTH:
            self._transport.set_token(self._token.reload())

    def _accepted(self, record: SpooledRecord) -> None:
        self._spool.ack((record,))
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

    def _transient(self, exc: RetryableShipError) -> None:
        self._report.transient(exc)
        self._gate.no_verdict()

    def _pause(self, exc: PausedShipError) -> None:
        options = self._options
        default = (
            options.auth_retry_seconds
            if exc.reason is PauseReason.AUTH
            else options.quota_retry_seconds
        )
        delay = default if exc.retry_after is None else exc.retry_after
        delay = min(delay, options.max_retry_after_seconds)
        new = self._gate.pause(exc.reason, delay)
        self._report.paused_by(exc, delay, new=new)
