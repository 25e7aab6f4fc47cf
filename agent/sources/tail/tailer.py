"""Several servers followed by one thread: the loop that drives the followers.

Each pass gives every follower a bounded slice of work (so one busy server cannot
starve another), then sleeps until an inotify event, the next idle-flush deadline or the
polling interval, whichever comes first. While the sink has no room nothing is read: the
log files are the buffer (shared/DESIGN.md, invariant 3).

File trouble (missing, unreadable, rotated, truncated) is handled and logged inside the
followers; an exception from the sink (e.g. the spool cannot write) ends :meth:`run`
and is raised to the caller: nothing was committed past it, so nothing is lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from agent.sources.tail.follower import Follower
from agent.sources.tail.sink import CheckpointStore, Sink
from agent.sources.tail.source import ServerSource
from agent.sources.tail.watcher import Waker

DEFAULT_POLL_SECONDS = 1.0


class Tailer:
    """Follows every configured server until :meth:`stop` (or the stop event) is set."""

    def __init__(
        self,
        sources: Sequence[ServerSource],
        sink: Sink,
        store: CheckpointStore,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        use_inotify: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self._clock = clock
        self._poll = poll_seconds
        self._waker = Waker(use_inotify=use_inotify)
        self._stop = threading.Event()
        self._next_watch = 0.0
        self.followers = [Follower(source, sink, store, clock=clock) for source in sources]

    def stop(self) -> None:
        """Ask :meth:`run` to return after its current slice of work."""
        self._stop.set()
        self._waker.wake()

    def run(self, stop: threading.Event | None = None) -> None:
        """Follow until stopped; ``stop`` (if given) is checked at least every poll."""
        self._waker.start()
        try:
            for follower in self.followers:
                follower.start()
            while not self._stopping(stop):
                self._pass()
        finally:
            self._waker.stop()
            for follower in self.followers:
                follower.close()

    def _stopping(self, stop: threading.Event | None) -> bool:
        return self._stop.is_set() or (stop is not None and stop.is_set())

    def _pass(self) -> None:
        if not self._sink.has_room():
            self._sink.wait_for_room(self._poll)
            return
        self._rewatch()
        busy = False
        for follower in self.followers:
            busy = follower.step() or busy
        if not busy:
            self._waker.wait(self._sleep_seconds())

    def _rewatch(self) -> None:
        """Once per poll interval: watch directories that appeared or were replaced."""
        now = self._clock()
        if now < self._next_watch:
            return
        self._next_watch = now + self._poll
        for follower in self.followers:
            self._waker.watch(follower.directory)

    def _sleep_seconds(self) -> float:
        now = self._clock()
        deadlines = [d for f in self.followers if (d := f.flush_deadline()) is not None]
        return max(0.0, min([self._poll, *(d - now for d in deadlines)]))


def follow(
    servers: Sequence[ServerSource],
    sink: Sink,
    store: CheckpointStore,
    stop_event: threading.Event,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    use_inotify: bool = True,
) -> None:
    """Follow ``servers`` into ``sink`` until ``stop_event`` is set (within one poll)."""
    Tailer(servers, sink, store, poll_seconds=poll_seconds, use_inotify=use_inotify).run(stop_event)
