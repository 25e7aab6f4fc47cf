"""A fleet of agents through an API outage, in simulated time (no real waiting).

    PYTHONPATH=$PWD .venv/bin/python bench/fleet.py --agents 10000 --outage 600

Each agent writes ``--rate`` entries a second (random phase) and sends each at once. The
API is down (no answer) from ``--warmup`` seconds for ``--outage`` seconds, then answers
every request at once. What decides *when* an agent sends is the agent's own code, driven
with a simulated clock:

* :class:`agent.ship.gate.PauseGate` is asked for a turn before every request (an outage
  is no pause, so it says GO; it is here so a request goes the way the sender's does);
* :class:`agent.ship.retry.WaitRetryAfter` (tenacity's full-jitter exponential backoff,
  0.25 s doubling to 60 s) gives each failed entry its next attempt, counted in a real
  :class:`tenacity.RetryCallState`, as a retry task (agent/ship/retries.py) does, capped
  by :func:`agent.ship.recovery.probe_cap` (a tenth of the outage so far);
* :class:`agent.ship.recovery.Outage` lets one retry per agent probe during the outage
  (the others park, as in ``RetryTasks._attempt``) and notices the first success after
  failures;
  :func:`agent.ship.recovery.wake_delay` (what ``RetryTasks.wake`` applies) wakes each
  sleeping retry at a random point of the next second; :class:`agent.ship.recovery.DrainPacer`
  hands out request start times over the drain window.

Not simulated: latency and the concurrency limit (an agent sends at most a few entries a
second here, far below ``concurrency / latency``), and entries beyond ``max_pending``
(1024): at the default rate a 10-minute backlog is 30 entries, all held by retry tasks.

Printed: the fleet's steady request rate before the outage, the request rate during the
outage (retries), the peak after recovery (per second and per 10 s, as a multiple of the
steady rate), and when the last backlog entry arrived.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tenacity import RetryCallState, Retrying

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.errors import RetryableShipError  # noqa: E402
from agent.ship.gate import PauseGate, Turn  # noqa: E402
from agent.ship.options import UploaderOptions  # noqa: E402
from agent.ship.recovery import (  # noqa: E402
    MIN_OUTAGE_SECONDS,
    WAKE_JITTER_SECONDS,
    DrainPacer,
    Outage,
    probe_cap,
    wake_delay,
)
from agent.ship.retry import WaitRetryAfter  # noqa: E402

LINE, RETRY, SEND = 0, 1, 2  # event kinds


class SimClock:
    """The simulated time, read by the gate."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Entry:
    """One entry that failed at least once: its tenacity state and its pending wake."""

    created: float
    state: RetryCallState
    version: int = 0  # bumped when a wake reschedules it: older heap items are stale
    due: float = 0.0


@dataclass
class Agent:
    gate: PauseGate
    outage: Outage = field(default_factory=Outage)
    drain: DrainPacer = field(default_factory=DrainPacer)
    sleeping: dict[int, Entry] = field(default_factory=dict)  # id(entry) -> entry
    parked: list[Entry] = field(default_factory=list)  # waiting for the outage to end


class Fleet:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.clock = SimClock()
        self.rng = random.Random(args.seed)
        random.seed(args.seed)  # tenacity's jitter uses the random module
        options = UploaderOptions("https://api.example")
        self.wait = WaitRetryAfter(
            options.backoff_initial_seconds,
            options.backoff_max_seconds,
            options.max_retry_after_seconds,
        )
        self.policy = Retrying()  # only to build RetryCallStates; it never runs
        self.failed = _failed_outcome()
        self.agents = [Agent(PauseGate(self.clock)) for _ in range(args.agents)]
        self.heap: list[tuple[float, int, int, int, Entry | None, int]] = []
        self.seq = 0
        self.down_from = args.warmup
        self.up_at = args.warmup + args.outage
        self.end = self.up_at + args.outage * 1.5 + 120
        self.requests = [0] * (int(self.end) + 2)
        self.last_backlog_accepted = self.up_at
        self.backlog_left = 0

    def push(self, when: float, kind: int, agent: int, entry: Entry | None = None) -> None:
        self.seq += 1
        version = entry.version if entry is not None else 0
        heapq.heappush(self.heap, (when, self.seq, kind, agent, entry, version))

    def run(self) -> None:
        period = 1.0 / self.args.rate
        for n in range(self.args.agents):
            self.push(self.rng.uniform(0, period), LINE, n)
        while self.heap:
            when, _, kind, n, entry, version = heapq.heappop(self.heap)
            if when > self.end:
                break
            self.clock.now = when
            if kind == LINE:
                self.push(when + period, LINE, n)
                self.send(n, None, when)
            elif entry is not None and version == entry.version:
                if kind == RETRY:
                    self.agents[n].sleeping.pop(id(entry), None)
                    self.send(n, entry, when)
                else:  # SEND: its drain turn came
                    self.request(n, entry, when)
            elif kind == SEND:
                self.request(n, entry, when)

    def send(self, n: int, entry: Entry | None, now: float) -> None:
        agent = self.agents[n]
        if entry is not None and not agent.outage.may_retry(entry):  # RetryTasks._attempt
            agent.parked.append(entry)
            return
        assert agent.gate.turn().turn is Turn.GO  # no pause in an outage
        delay = agent.drain.delay(now)
        if delay > 0:
            entry = entry or self.new_entry(now)
            self.push(now + delay, SEND, n, entry)
        else:
            self.request(n, entry, now)

    def new_entry(self, now: float) -> Entry:
        state = RetryCallState(self.policy, None, (), {})
        state.attempt_number = 0
        return Entry(now, state)

    def request(self, n: int, entry: Entry | None, now: float) -> None:
        self.requests[int(now)] += 1
        agent = self.agents[n]
        if self.down_from <= now < self.up_at:
            agent.outage.failed(now)
            entry = entry or self.new_entry(now)
            if entry.state.attempt_number == 0:
                self.backlog_left += 1
            entry.state.attempt_number += 1
            entry.state.outcome = self.failed
            since = agent.outage.since
            assert since is not None
            entry.due = now + min(self.wait(entry.state), probe_cap(now - since))
            agent.sleeping[id(entry)] = entry
            self.push(entry.due, RETRY, n, entry)
            return
        if entry is not None and entry.state.attempt_number > 0:
            self.backlog_left -= 1
            self.last_backlog_accepted = now
        outage = agent.outage.succeeded(now)
        if outage is not None:
            self.recovered(n, now, outage)

    def recovered(self, n: int, now: float, outage: float) -> None:
        """Uploader._recovered: wake the sleeping retries, release the parked ones."""
        agent = self.agents[n]
        if outage < MIN_OUTAGE_SECONDS:
            within = 0.0
        else:
            backlog = len(agent.sleeping) + len(agent.parked)
            window = agent.drain.start(now, backlog, outage)
            within = min(WAKE_JITTER_SECONDS, window) if window > 0 else WAKE_JITTER_SECONDS
            for entry in list(agent.sleeping.values()):
                delay = wake_delay(entry.due - now, within, self.rng)
                if delay is not None:
                    entry.version += 1
                    entry.due = now + delay
                    self.push(entry.due, RETRY, n, entry)
        for entry in agent.parked:  # RetryTasks.release: each at a random point of `within`
            entry.version += 1
            self.push(now + self.rng.uniform(0.0, within), RETRY, n, entry)
        agent.parked.clear()

    def report(self, seconds: float) -> None:
        args = self.args
        steady = args.agents * args.rate
        warm = self.requests[10 : int(self.down_from)]
        outage = self.requests[int(self.down_from) : int(self.up_at)]
        after = self.requests[int(self.up_at) : int(self.end)]
        tens = [sum(after[i : i + 10]) / 10 for i in range(len(after) - 10)]
        print(f"agents {args.agents}, {args.rate:g} entries/s each, outage {args.outage:g} s")
        before = sum(warm) / len(warm)
        print(f"steady rate (before): {before:,.0f} requests/s (nominal {steady:,.0f})")
        print(f"during the outage: mean {sum(outage) / len(outage):,.0f}/s, peak {max(outage):,}/s")
        print(
            f"after recovery: peak {max(after):,}/s = {max(after) / steady:.2f}x steady; "
            f"peak 10 s mean {max(tens):,.0f}/s = {max(tens) / steady:.2f}x"
        )
        drained = self.last_backlog_accepted - self.up_at
        print(
            f"backlog left: {self.backlog_left}; last backlog entry arrived {drained:.0f} s "
            f"after the API came back ({drained / args.outage:.2f}x the outage)"
        )
        print(f"simulated {self.end:.0f} s in {seconds:.1f} s of CPU")


def _failed_outcome():
    """A tenacity outcome holding the failure every attempt in the outage gets."""
    from tenacity import Future

    future = Future(1)
    future.set_exception(RetryableShipError("connection error: ClientConnectorError"))
    return future


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=0.05, help="entries/s per agent")
    parser.add_argument("--outage", type=float, default=600.0)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    fleet = Fleet(args)
    started = time.process_time()
    fleet.run()
    fleet.report(time.process_time() - started)


if __name__ == "__main__":
    main()
