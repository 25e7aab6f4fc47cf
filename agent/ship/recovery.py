"""Recovery after an outage: when it ended, and how fast the backlog goes out again.

A retry sleeping out a 60 s backoff must not keep the backlog waiting once the API is
back. The first success after an :class:`Outage` wakes every sleeping retry
(:meth:`agent.ship.retries.RetryTasks.wake`, each at a random point of a short window, so
they do not arrive at once), and a :class:`DrainPacer` spreads the backlog's requests
over a :func:`drain_window` that grows with the outage: a short outage is most likely this
host's alone and drains in seconds; a long one is most likely the API's, seen by the whole
fleet at once, so each agent spreads its backlog over about as long as the outage lasted
and the fleet's request rate stays under twice its steady rate (bench/fleet.py).
These pieces are synchronous and take ``now``, so bench/fleet.py drives them in simulated
time.
"""

from __future__ import annotations

import random

MIN_OUTAGE_SECONDS = 2.0  # failures for less than this are noise, not an outage to report
WAKE_JITTER_SECONDS = 1.0  # woken retries spread over this long (the pacer does the rest)
LONG_OUTAGE_SECONDS = 600.0  # from here on the backlog is paced over twice the outage
SHORT_SPREAD_RATIO = 1 / 10  # up to ~134 s: a 40 s outage's backlog goes out in 4 s
LONG_SPREAD_RATIO = 2.0  # a 10 min outage is paced over 20 min: 1.5x the steady rate


PROBE_RATIO = 0.1  # in an outage, a retry sleeps at most a tenth of the outage so far
MIN_PROBE_SECONDS = 1.0


def probe_cap(elapsed: float) -> float:
    """The longest backoff of a retry ``elapsed`` seconds into an outage.

    The prober finds the API back at most this long after it returned, so a 40 s outage is
    noticed within 4 s even on a quiet server (no new entries to probe with); a 10-minute
    one is probed once a minute at most (the backoff's own cap), under a fleet's steady
    rate, so probing does not add to the herd when the API returns.
    """
    return max(MIN_PROBE_SECONDS, elapsed * PROBE_RATIO)


def wake_delay(remaining: float, within: float, rng: random.Random) -> float | None:
    """When a retry sleeping ``remaining`` more seconds goes again after a recovery: at a
    random point of the next ``within`` seconds, or None to keep its own (sooner) time."""
    delay = rng.uniform(0.0, within)
    return delay if remaining > delay else None


def drain_window(outage: float) -> float:
    """Seconds over which the backlog of an ``outage`` seconds long is sent again.

    Its ratio to the outage grows with the square of the outage, from 1/10 (up to ~134 s)
    to 2 (from LONG_OUTAGE_SECONDS on). A backlog built over T seconds and paced over 2 T
    adds half the steady rate (the pacer also lets new entries through at the rate the
    backlog grew), so a fleet that recovers at once stays under 2x its steady rate, with
    room for the jitter; bench/fleet.py measures it at 10,000 agents.
    """
    growing = LONG_SPREAD_RATIO * (outage / LONG_OUTAGE_SECONDS) ** 2
    ratio = min(LONG_SPREAD_RATIO, max(SHORT_SPREAD_RATIO, growing))
    return outage * ratio


class Outage:
    """Failures since the last verdict, and which retry may probe meanwhile.

    While requests fail, one retry (the prober) goes on with its backoff and the other
    retries wait for the outage to end (:meth:`may_retry`), so an agent's request rate in
    an outage is its new entries plus one probe, not one request per backed-off entry.
    """

    def __init__(self) -> None:
        self.since: float | None = None
        self._prober: object | None = None

    def failed(self, now: float) -> None:
        """A request got no verdict (timeout, refused, 5xx)."""
        if self.since is None:
            self.since = now

    def succeeded(self, now: float) -> float | None:
        """A verdict came back: how long the failures before it lasted (None: none)."""
        since, self.since, self._prober = self.since, None, None
        return None if since is None else now - since

    def may_retry(self, who: object) -> bool:
        """May the retry of ``who`` go now? Yes unless another retry probes an outage."""
        if self.since is None or self._prober is None or self._prober is who:
            self._prober = who if self.since is not None else None
            return True
        return False

    def release(self, who: object) -> None:
        """``who`` retries no more (accepted, dead-lettered or stopped)."""
        if self._prober is who:
            self._prober = None


class DrainPacer:
    """After an outage, hands out request start times about ``1 / rate`` apart (jittered)
    for the drain window, where rate = (backlog + 1) / window + backlog / outage (the
    backlog, plus new entries at the rate it grew); then it lets everything through."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._interval = 0.0
        self._next = 0.0
        self._until = float("-inf")

    def start(self, now: float, backlog: int, outage: float) -> float:
        """Pace the next requests; returns the drain window in seconds."""
        window = drain_window(outage)
        # (backlog + 1) / window: a backlog of one or two still ends well inside the window
        rate = (backlog + 1) / window + backlog / outage if backlog > 0 else 0.0
        if rate <= 0.0:
            self._until = float("-inf")
            return 0.0
        self._interval = 1.0 / rate
        # The request that found the API back was the first; the next comes at a random
        # point of one interval, and each gap varies by +-50 %: agents that recovered in
        # the same second must not send in step for the whole window.
        self._next = now + self._interval * self._rng.uniform(0.5, 1.5)
        self._until = now + window
        return window

    def delay(self, now: float) -> float:
        """Seconds the request starting now waits for its turn (0 when not pacing)."""
        if now >= self._until:
            return 0.0
        slot = max(now, self._next)
        self._next = slot + self._interval * self._rng.uniform(0.5, 1.5)
        return slot - now
