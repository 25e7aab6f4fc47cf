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

MIN_OUTAGE_SECONDS = 2.0  # failures for less than this are noise, not an outage to report
WAKE_JITTER_SECONDS = 1.0  # woken retries spread over this long (the pacer does the rest)
LONG_OUTAGE_SECONDS = 300.0  # from this long on, the backlog drains over the outage's length
SHORT_SPREAD_RATIO = 1 / 8  # up to 37.5 s; a 40 s outage drains in 5.3 s
LONG_SPREAD_RATIO = 1.25  # a 10 min outage drains in 12.5 min: 1.8x the steady rate


def drain_window(outage: float) -> float:
    """Seconds over which the backlog of an ``outage`` seconds long is sent again.

    Its ratio to the outage grows from 1/8 (short) to 1.25 (from LONG_OUTAGE_SECONDS on):
    a backlog built over T seconds, sent over 1.25 T beside new entries, adds 0.8 times the
    steady rate, so a fleet that recovers at once peaks below 2x its steady rate.
    """
    ratio = min(LONG_SPREAD_RATIO, max(SHORT_SPREAD_RATIO, outage / LONG_OUTAGE_SECONDS))
    return outage * ratio


class Outage:
    """Failures since the last success: when the next success ends an outage."""

    def __init__(self) -> None:
        self.since: float | None = None

    def failed(self, now: float) -> None:
        """A request got no verdict (timeout, refused, 5xx)."""
        if self.since is None:
            self.since = now

    def succeeded(self, now: float) -> float | None:
        """A verdict came back: the outage's length if one just ended, else None."""
        since, self.since = self.since, None
        if since is None or now - since < MIN_OUTAGE_SECONDS:
            return None
        return now - since


class DrainPacer:
    """After an outage, hands out request start times ``1 / rate`` apart for the drain
    window, where rate = backlog / window + backlog / outage (the backlog, plus new entries
    at the rate the backlog grew); then it lets everything through again."""

    def __init__(self) -> None:
        self._interval = 0.0
        self._next = 0.0
        self._until = float("-inf")

    def start(self, now: float, backlog: int, outage: float) -> float:
        """Pace the next requests; returns the drain window in seconds."""
        window = drain_window(outage)
        rate = backlog / window + backlog / outage if backlog > 0 else 0.0
        if rate <= 0.0:
            self._until = float("-inf")
            return 0.0
        self._interval = 1.0 / rate
        self._next = now
        self._until = now + window
        return window

    def delay(self, now: float) -> float:
        """Seconds the request starting now waits for its turn (0 when not pacing)."""
        if now >= self._until:
            return 0.0
        slot = max(now, self._next)
        self._next = slot + self._interval
        return slot - now
