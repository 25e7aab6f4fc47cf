"""Several servers followed by one thread: the loop that drives the followers.

Each pass gives each follower due a bounded slice of work (so one busy server cannot
starve another), then sleeps until an inotify event, the next idle-flush deadline or the
polling interval, whichever comes first. Due are: the followers whose folder had events
(after a 10 ms wait, so one pass reads what several writes added), those with more to
read or an idle flush due, and every follower at the safety-net pass (every poll, or
every WATCHED_POLL_SECONDS while inotify watches every folder). The entries of one pass
commit in one spool transaction (the sink's ``batched()``). While the sink has
no room nothing is read: the log files are the buffer (shared/DESIGN.md, invariant 3).

Servers come and go when ``log`` is a glob (agent/sources/tail/servers.py): the set is
scanned again every ``rescan_seconds`` (5 s: some 200 ``stat`` calls for 200 servers, no
busy polling) and soon after a folder is created, deleted or moved under a glob's fixed
root (inotify). A released server's file handles and watches are closed and its metric
series dropped; its checkpoints stay in the store.

Fairness: the sink's room is asked per server (``has_room(server_id)``), so a server that
filled its share of the spool pauses alone while the others go on reading.

File trouble (missing, unreadable, rotated, truncated) is handled and logged inside the
followers; an exception from the sink (e.g. the spool cannot write) ends :meth:`run`
and is raised to the caller: nothing was committed past it, so nothing is lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from agent.metrics import Metrics
from agent.sources.tail.follower import Follower
from agent.sources.tail.servers import ServerSet
from agent.sources.tail.sink import CheckpointStore, Sink
from agent.sources.tail.source import ServerSource
from agent.sources.tail.watcher import Waker

DEFAULT_POLL_SECONDS = 1.0
DEFAULT_RESCAN_SECONDS = 5.0
# With every folder watched by inotify, the safety-net pass over all followers (a fstat,
# a pread and a stat each) runs this often instead of every poll (bench/README.md "## host").
WATCHED_POLL_SECONDS = 5.0
COALESCE_SECONDS = 0.01  # after an event, wait this long and read every changed file at once
RESCAN_AFTER_EVENT_SECONDS = 0.2  # a burst of folder events makes one rescan


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
        rescan_seconds: float = DEFAULT_RESCAN_SECONDS,
        metrics: Metrics | None = None,
    ) -> None:
        self._sink = sink
        self._store = store
        self._clock = clock
        self._poll = poll_seconds
        self._waker = Waker(use_inotify=use_inotify)
        self._stop = threading.Event()
        self._next_watch = 0.0
        self._servers = ServerSet(sources)
        self._rescan_every = rescan_seconds
        self._next_rescan = float("inf")
        self._metrics = metrics
        self._next_publish = 0.0
        self._next_full = 0.0  # when every follower is stepped (the polling safety net)
        self._every = poll_seconds  # its interval: longer while every folder is watched
        self._stop_given = False
        self._due: set[Follower] = set()  # to step in the next pass: events, more work
        self._by_directory: dict[Path, list[Follower]] = {}
        self.followers: list[Follower] = []
        self._add(self._servers.scan().found)

    def stop(self) -> None:
        """Ask :meth:`run` to return after its current slice of work."""
        self._stop.set()
        self._waker.wake()

    def run(self, stop: threading.Event | None = None) -> None:
        """Follow until stopped; ``stop`` (if given) is checked at least every poll."""
        self._stop_given = stop is not None
        self._waker.start()
        try:
            for follower in self.followers:
                follower.start()
            if self._servers.dynamic:
                self._next_rescan = self._clock() + self._rescan_every
            while not self._stopping(stop):
                self._pass()
        finally:
            self._waker.stop()
            for follower in self.followers:
                follower.close()

    def _stopping(self, stop: threading.Event | None) -> bool:
        return self._stop.is_set() or (stop is not None and stop.is_set())

    def _pass(self) -> None:
        self._rescan()
        self._rewatch()
        self._publish_metrics()
        busy: set[Follower] = set()
        paused: set[Follower] = set()  # looked at again after the next wake-up
        with self._sink.batched():  # one spool commit per pass
            for follower in self._chosen():
                if not self._sink.has_room(follower.source.server_id):
                    paused.add(follower)  # its share of the spool is full: the log is the buffer
                    continue
                if follower.step():
                    busy.add(follower)
        self._due = busy | paused
        if paused and len(paused) == len(self.followers):
            self._sink.wait_for_room(self._poll)
            self._next_full = 0.0
        elif not busy:
            self._wait()

    def _chosen(self) -> list[Follower]:
        """Every follower at the safety-net poll; else those with events, more work or an
        idle flush due."""
        now = self._clock()
        if now >= self._next_full:
            every = self._poll
            if self._waker.watching and all(
                self._waker.watched(f.directory) for f in self.followers
            ):
                every = max(self._poll, WATCHED_POLL_SECONDS)
            self._every = every
            self._next_full = now + every
            return self.followers
        due = self._due
        return [
            f
            for f in self.followers
            if f in due or ((d := f.flush_deadline()) is not None and d <= now)
        ]

    def _wait(self) -> None:
        """Sleep until an event, a deadline or the poll; note which followers are due."""
        changed = self._waker.wait(self._sleep_seconds())
        if changed:
            # Lines come one write at a time: a moment's wait reads several in one pass.
            self._stop.wait(COALESCE_SECONDS)
            more = self._waker.wait(0.0)
            changed = None if more is None else changed | more
        if changed is None:  # woken by wake() (stop, tests) or an overflow: look at all
            self._next_full = 0.0
            return
        for directory in changed:
            self._due.update(self._by_directory.get(directory, ()))

    # -- servers that come and go ---------------------------------------------------------

    def _rescan(self) -> None:
        """Look for servers found or gone: when due, or soon after a folder event."""
        now = self._clock()
        if self._waker.rescan.is_set():
            self._waker.rescan.clear()
            self._next_rescan = min(self._next_rescan, now + RESCAN_AFTER_EVENT_SECONDS)
        if now < self._next_rescan:
            return
        self._next_rescan = now + self._rescan_every
        changes = self._servers.scan()
        self._release(set(changes.released))
        added = self._add(changes.found)
        for follower in added:
            follower.start()
            self._waker.watch(follower.directory)

    def _add(self, sources: Sequence[ServerSource]) -> list[Follower]:
        store, sink, clock = self._store, self._sink, self._clock
        added = [Follower(source, sink, store, clock=clock) for source in sources]
        self.followers.extend(added)
        for follower in added:
            self._by_directory.setdefault(follower.directory, []).append(follower)
        return added

    def _release(self, server_ids: set[str]) -> None:
        if not server_ids:
            return
        gone = [f for f in self.followers if f.source.server_id in server_ids]
        self.followers = [f for f in self.followers if f.source.server_id not in server_ids]
        still_watched = {f.directory for f in self.followers}
        for follower in gone:
            follower.close()
            self._due.discard(follower)
            same = self._by_directory.get(follower.directory, [])
            self._by_directory[follower.directory] = [f for f in same if f is not follower]
            if follower.directory not in still_watched:
                self._waker.unwatch(follower.directory)
            if self._metrics is not None:
                self._metrics.forget_server(follower.source.server_id)

    def _rewatch(self) -> None:
        """With the safety-net pass: watch directories that appeared or were replaced."""
        now = self._clock()
        if now < self._next_watch:
            return
        self._next_watch = now + self._every
        for root in self._servers.roots:
            self._waker.watch_root(root)
        for follower in self.followers:
            self._waker.watch(follower.directory)

    def _publish_metrics(self) -> None:
        """Servers followed and each one's lag, every ``rescan_seconds`` (an fstat each)."""
        now = self._clock()
        if self._metrics is None or now < self._next_publish:
            return
        self._next_publish = now + self._rescan_every
        self._metrics.servers_followed.set(len(self.followers))
        for follower in self.followers:
            lag = follower.lag_bytes()
            if lag is not None:
                self._metrics.server_lag_bytes.labels(follower.source.server_id).set(lag)

    def _sleep_seconds(self) -> float:
        now = self._clock()
        deadlines = [d for f in self.followers if (d := f.flush_deadline()) is not None]
        nearest = min([self._next_full, self._next_rescan, *deadlines])
        if self._stop_given or self._due:  # run(stop), or paused followers: every poll
            nearest = min(nearest, now + self._poll)
        return max(0.0, nearest - now)


def follow(
    servers: Sequence[ServerSource],
    sink: Sink,
    store: CheckpointStore,
    stop_event: threading.Event,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    use_inotify: bool = True,
) -> None:
    """Follow ``servers`` (globs expanded) into ``sink`` until ``stop_event`` is set."""
    Tailer(servers, sink, store, poll_seconds=poll_seconds, use_inotify=use_inotify).run(stop_event)
