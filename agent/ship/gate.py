"""The pause gate: while the API says "pause" nobody sends; then one probe goes first.

An ``unauthorized``/``forbidden`` or ``quota_exceeded`` answer means every request would
get the same answer, so the gate closes for all workers and retry tasks at once. When the
delay is over, exactly one request passes as the probe (after an auth pause the sender
reloads the token first). A verdict that is not a pause (accepted, or refused for good)
opens the gate for everyone; a new pause closes it again for another delay; a probe that
got no verdict (timeout, 5xx) lets the next request probe.

State x event (tests/test_gate.py is this table):

==========  ================================  ========  ===============================
state       event                             next      what happens
==========  ================================  ========  ===============================
OPEN        turn                              OPEN      GO
OPEN        pause(reason, delay)              CLOSED    resume at now + delay; new pause
CLOSED      turn, before the resume time      CLOSED    WAIT until then (at most 1 s)
CLOSED      turn, at or after it              PROBING   PROBE, to this caller only
PROBING     turn                              PROBING   WAIT (poll every second)
CLOSED      verdict (accepted or refused)     OPEN      resumed
PROBING     verdict (accepted or refused)     OPEN      resumed
PROBING     no verdict (transient failure)    CLOSED    the next turn probes
CLOSED      pause(same reason, delay)         CLOSED    resume at now + delay; not new
PROBING     pause(reason, delay)              CLOSED    resume at now + delay
CLOSED      token reloaded (AUTH pause)       CLOSED    resume now: the next turn probes
CLOSED      token reloaded (CONFIG pause)     CLOSED    resume now: the next turn probes
any         stop                              STOPPED   STOP for everyone, for good
==========  ================================  ========  ===============================

The core (:meth:`PauseGate.turn` and the event methods) is synchronous and reads an
injected clock, so the table is tested without sleeping; :meth:`PauseGate.wait_turn` is
the asyncio wrapper the sender awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from enum import Enum
from typing import NamedTuple

from agent.errors import PauseReason

POLL_SECONDS = 1.0  # a missed notification costs at most this long, never a hang
_RELOAD_ENDS = (PauseReason.AUTH, PauseReason.CONFIG)  # pauses a reload (SIGHUP) ends


class GateState(Enum):
    """Where the gate is."""

    OPEN = "open"  # sending freely
    CLOSED = "closed"  # paused: nobody passes before the resume time, then one probe
    PROBING = "probing"  # paused, the probe is out: everyone else waits for its verdict
    STOPPED = "stopped"  # stop requested: nobody passes any more


class Turn(Enum):
    """What the gate tells one request."""

    GO = "go"  # send
    PROBE = "probe"  # send as the probe of a pause
    WAIT = "wait"  # ask again after ``Decision.wait`` seconds or when the gate changes
    STOP = "stop"  # do not send: the uploader is stopping


class Decision(NamedTuple):
    """A turn, and how long to wait before asking again when it is WAIT."""

    turn: Turn
    wait: float = 0.0


class PauseGate:
    """Shared by every request of one uploader."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.state = GateState.OPEN
        self.reason: PauseReason | None = None  # why it is (or was, when stopped) paused
        self._resume_at = 0.0
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        reason = self.reason.value if self.reason else None
        return f"PauseGate({self.state.value}, reason={reason})"

    # -- the pure core ------------------------------------------------------------------

    def turn(self) -> Decision:
        """May a request go now? At most one PROBE is handed out per closing."""
        if self.state is GateState.STOPPED:
            return Decision(Turn.STOP)
        if self.state is GateState.OPEN:
            return Decision(Turn.GO)
        if self.state is GateState.PROBING:
            return Decision(Turn.WAIT, POLL_SECONDS)
        left = self._resume_at - self._clock()
        if left <= 0:
            self._set(GateState.PROBING)
            return Decision(Turn.PROBE)
        return Decision(Turn.WAIT, min(left, POLL_SECONDS))

    def pause(self, reason: PauseReason, delay: float) -> bool:
        """Close for ``delay`` seconds; True when this is a new pause (say it loudly once)."""
        new = self.reason is not reason
        self.reason = reason
        self._resume_at = self._clock() + delay
        if self.state is not GateState.STOPPED:
            self._set(GateState.CLOSED)
        return new

    def verdict(self) -> bool:
        """The API answered with something other than a pause: open for everyone.

        True when that ended a pause (the caller says "resumed").
        """
        if self.reason is None:
            return False
        self.reason = None
        if self.state is not GateState.STOPPED:
            self._set(GateState.OPEN)
        return True

    def no_verdict(self) -> None:
        """A request got no verdict (timeout, 5xx): if it was the probe, the next one probes."""
        if self.state is GateState.PROBING:
            self._set(GateState.CLOSED)

    def token_reloaded(self) -> None:
        """The operator reloaded (SIGHUP: a new token, a fixed server): an auth pause need
        not wait out its delay, and a configuration pause (which waits for this) ends."""
        if self.reason in _RELOAD_ENDS and self.state is not GateState.STOPPED:
            self._resume_at = self._clock()
            self._changed.set()

    def stop(self) -> None:
        """Nobody passes any more; waiting requests return STOP."""
        self._set(GateState.STOPPED)

    def _set(self, state: GateState) -> None:
        self.state = state
        self._changed.set()

    # -- asyncio ------------------------------------------------------------------------

    async def wait_turn(self) -> Turn:
        """Wait until the gate says GO, PROBE or STOP (never returns WAIT)."""
        while True:
            decision = self.turn()
            if decision.turn is not Turn.WAIT:
                return decision.turn
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(decision.wait, 0.001))
