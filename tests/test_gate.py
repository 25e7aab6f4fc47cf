"""The pause/probe gate as a table: state x event -> state and what the caller is told."""

from __future__ import annotations

import asyncio

import pytest

from agent.errors import PauseReason
from agent.ship.gate import POLL_SECONDS, Decision, GateState, PauseGate, Turn

AUTH, QUOTA = PauseReason.AUTH, PauseReason.QUOTA
OPEN, CLOSED, PROBING, STOPPED = GateState
GO, PROBE, WAIT, STOP = Turn


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run_steps(steps: list[tuple]) -> tuple[PauseGate, object]:
    """Apply (event, argument...) steps to a new gate; return it and the last result."""
    clock = FakeClock()
    gate = PauseGate(clock)
    result: object = None
    for step in steps:
        event, *args = step
        if event == "tick":
            clock.now += args[0]
            result = None
        elif event == "pause":
            result = gate.pause(*args)
        else:
            result = getattr(gate, event)()
    return gate, result


CLOSED_AUTH = [("pause", AUTH, 180.0)]
PROBE_OUT = [*CLOSED_AUTH, ("tick", 180.0), ("turn",)]

TABLE = [
    # id, steps, state after, last result
    ("open lets everyone go", [("turn",)], OPEN, Decision(GO)),
    ("an auth pause closes it, new", CLOSED_AUTH, CLOSED, True),
    ("a quota pause closes it, new", [("pause", QUOTA, 900.0)], CLOSED, True),
    ("closed: wait, at most a poll", [*CLOSED_AUTH, ("turn",)], CLOSED, Decision(WAIT, 1.0)),
    (
        "closed: wait the time left when shorter",
        [("pause", QUOTA, 0.3), ("turn",)],
        CLOSED,
        Decision(WAIT, pytest.approx(0.3)),
    ),
    ("closed, delay over: one probe", PROBE_OUT, PROBING, Decision(PROBE)),
    ("probing: the others wait", [*PROBE_OUT, ("turn",)], PROBING, Decision(WAIT, 1.0)),
    ("probe accepted: open, resumed", [*PROBE_OUT, ("verdict",)], OPEN, True),
    ("open after the probe: go", [*PROBE_OUT, ("verdict",), ("turn",)], OPEN, Decision(GO)),
    ("probe paused again: closed, not new", [*PROBE_OUT, ("pause", AUTH, 180.0)], CLOSED, False),
    (
        "probe paused again: waits the new delay",
        [*PROBE_OUT, ("pause", AUTH, 180.0), ("tick", 179.0), ("turn",)],
        CLOSED,
        Decision(WAIT, 1.0),
    ),
    ("probe without verdict: closed again", [*PROBE_OUT, ("no_verdict",)], CLOSED, None),
    (
        "probe without verdict: the next one probes",
        [*PROBE_OUT, ("no_verdict",), ("turn",)],
        PROBING,
        Decision(PROBE),
    ),
    (
        "token reloaded in an auth pause: probe now",
        [*CLOSED_AUTH, ("token_reloaded",), ("turn",)],
        PROBING,
        Decision(PROBE),
    ),
    (
        "token reloaded in a quota pause: still waits",
        [("pause", QUOTA, 900.0), ("token_reloaded",), ("turn",)],
        CLOSED,
        Decision(WAIT, 1.0),
    ),
    (
        "a configuration pause waits for a reload",
        [("pause", PauseReason.CONFIG, float("inf")), ("turn",)],
        CLOSED,
        Decision(WAIT, 1.0),
    ),
    (
        "reloaded in a configuration pause: probe now",
        [("pause", PauseReason.CONFIG, float("inf")), ("token_reloaded",), ("turn",)],
        PROBING,
        Decision(PROBE),
    ),
    ("quota after auth is a new pause", [*CLOSED_AUTH, ("pause", QUOTA, 900.0)], CLOSED, True),
    ("an in-flight acceptance opens it", [*CLOSED_AUTH, ("verdict",)], OPEN, True),
    ("a verdict while open is no resume", [("verdict",)], OPEN, False),
    ("no verdict while open changes nothing", [("no_verdict",), ("turn",)], OPEN, Decision(GO)),
    ("stop while open", [("stop",), ("turn",)], STOPPED, Decision(STOP)),
    ("stop while paused", [*CLOSED_AUTH, ("stop",), ("turn",)], STOPPED, Decision(STOP)),
    ("stop while probing", [*PROBE_OUT, ("stop",), ("turn",)], STOPPED, Decision(STOP)),
    ("a pause after stop stays stopped", [("stop",), ("pause", AUTH, 1.0)], STOPPED, True),
    ("a verdict after stop stays stopped", [*CLOSED_AUTH, ("stop",), ("verdict",)], STOPPED, True),
    (
        "a token reload after stop stays stopped",
        [*CLOSED_AUTH, ("stop",), ("token_reloaded",), ("turn",)],
        STOPPED,
        Decision(STOP),
    ),
]


@pytest.mark.parametrize(
    ("steps", "state", "result"), [row[1:] for row in TABLE], ids=[r[0] for r in TABLE]
)
def test_gate_table(steps: list[tuple], state: GateState, result: object) -> None:
    """Each row: the events applied in order leave the gate in that state, saying that."""
    gate, last = run_steps(steps)
    assert gate.state is state
    assert last == result


def test_only_one_probe_per_closing() -> None:
    """However many ask once the delay is over, exactly one is the probe."""
    clock = FakeClock()
    gate = PauseGate(clock)
    gate.pause(QUOTA, 60.0)
    clock.now += 60.0
    turns = [gate.turn().turn for _ in range(10)]
    assert turns.count(PROBE) == 1 and turns.count(WAIT) == 9


def test_the_reason_is_kept_until_the_verdict() -> None:
    """The sender reads the reason at its PROBE turn (to reload the token for AUTH)."""
    gate, _ = run_steps([*PROBE_OUT])
    assert gate.reason is AUTH
    gate.verdict()
    assert gate.reason is None


def test_waiting_requests_follow_the_accepted_probe() -> None:
    """Waiters block while paused; one gets the probe at once after a token reload, and
    the rest go when it is accepted (woken by the gate, not by a timeout)."""

    async def scenario() -> list[Turn]:
        gate = PauseGate(FakeClock())
        gate.pause(AUTH, 3600.0)
        waiters = [asyncio.create_task(gate.wait_turn()) for _ in range(3)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        gate.token_reloaded()
        done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        assert [t.result() for t in done] == [PROBE] and len(pending) == 2
        gate.verdict()
        rest = await asyncio.wait_for(asyncio.gather(*pending), POLL_SECONDS / 2)
        return [PROBE, *rest]

    assert asyncio.run(scenario()) == [PROBE, GO, GO]


def test_stop_releases_every_waiter() -> None:
    """A stop while paused wakes every waiting request with STOP."""

    async def scenario() -> list[Turn]:
        gate = PauseGate(FakeClock())
        gate.pause(QUOTA, 3600.0)
        waiters = [asyncio.create_task(gate.wait_turn()) for _ in range(3)]
        await asyncio.sleep(0)
        gate.stop()
        return await asyncio.wait_for(asyncio.gather(*waiters), POLL_SECONDS / 2)

    assert asyncio.run(scenario()) == [STOP, STOP, STOP]
